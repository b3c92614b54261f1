# Installation rules and Debian packages. `cmake --install <build>` installs everything under
# CMAKE_INSTALL_PREFIX; `cpack -G DEB` (run in a Release build dir) makes three packages, one per
# component: orgtrail-collector, orgtrail-agent and orgtrailctl (binaries in /usr/bin, systemd
# units with their ExecStart pointing there, the sysusers entry, example configuration and the
# CIS alarm set, docs). Runtime library dependencies come from dpkg-shlibdeps.
# Packages do not start a daemon: each needs its certificates and configuration first (see
# deploy/README.md); postinst creates the service user and reloads systemd.
include(GNUInstallDirs)

install(TARGETS orgtrail-collector RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT collector)
install(TARGETS orgtrail-agent RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT agent)
install(TARGETS orgtrailctl RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT ctl)

# The units name /usr/local/bin (deploy/README's manual install); an installed unit names the
# prefix it is installed under, which for a package is only known at install time.
function(orgtrail_install_unit unit component)
  set(source "${PROJECT_SOURCE_DIR}/deploy/systemd/${unit}")
  install(CODE "
    file(READ \"${source}\" text)
    string(REPLACE \"/usr/local/bin/\" \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}/\" text \"\${text}\")
    string(REPLACE \"/usr/local/share/doc/orgtrail\" \"\${CMAKE_INSTALL_PREFIX}/share/doc/orgtrail-${component}\" text \"\${text}\")
    file(WRITE \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/lib/systemd/system/${unit}\" \"\${text}\")
    message(STATUS \"Installing: \$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/lib/systemd/system/${unit}\")"
    COMPONENT ${component})
endfunction()
orgtrail_install_unit(orgtrail-collector.service collector)
orgtrail_install_unit(orgtrail-agent@.service agent)

foreach(component collector agent)
  install(FILES deploy/systemd/orgtrail.sysusers.conf DESTINATION lib/sysusers.d
          RENAME orgtrail-${component}.conf COMPONENT ${component})
  install(FILES deploy/config/${component}.conf DESTINATION share/doc/orgtrail-${component}/examples
          COMPONENT ${component})
  install(FILES README.md DESTINATION share/doc/orgtrail-${component} COMPONENT ${component})
  install(FILES deploy/README.md DESTINATION share/doc/orgtrail-${component}/deploy COMPONENT ${component})
endforeach()
install(FILES deploy/config/trails.json DESTINATION share/doc/orgtrail-collector/examples COMPONENT collector)
install(FILES deploy/alarms/cis.json deploy/alarms/README.md DESTINATION share/orgtrail/alarms COMPONENT collector)
install(DIRECTORY deploy/k8s/ DESTINATION share/orgtrail/k8s COMPONENT collector)
install(FILES README.md DESTINATION share/doc/orgtrailctl COMPONENT ctl)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME orgtrail)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR orgtrail)
set(CPACK_PACKAGE_CONTACT "orgtrail maintainers <orgtrail@localhost>")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL collector agent ctl)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_COLLECTOR_PACKAGE_NAME orgtrail-collector)
set(CPACK_DEBIAN_AGENT_PACKAGE_NAME orgtrail-agent)
set(CPACK_DEBIAN_CTL_PACKAGE_NAME orgtrailctl)
set(CPACK_COMPONENT_COLLECTOR_DESCRIPTION "orgtrail collector: receives, verifies and stores the organization's audit trail")
set(CPACK_COMPONENT_AGENT_DESCRIPTION "orgtrail agent: captures, signs and streams an account's API activity")
set(CPACK_COMPONENT_CTL_DESCRIPTION "orgtrailctl: query, verify, export and administer an orgtrail organization")
set(CPACK_DEBIAN_COLLECTOR_PACKAGE_SUGGESTS orgtrailctl)
set(CPACK_DEBIAN_AGENT_PACKAGE_SUGGESTS orgtrailctl)
foreach(component collector agent)
  string(TOUPPER ${component} upper)
  set(script "${CMAKE_BINARY_DIR}/packaging/${component}/postinst")
  file(WRITE "${script}" "#!/bin/sh\n# Creates the orgtrail service user and makes systemd see the unit; starts nothing.\nset -e\nif [ \"$1\" = configure ]; then\n  if command -v systemd-sysusers >/dev/null 2>&1; then systemd-sysusers orgtrail-${component}.conf || true; fi\n  if [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi\nfi\nexit 0\n")
  file(CHMOD "${script}" PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
  set(CPACK_DEBIAN_${upper}_PACKAGE_CONTROL_EXTRA "${script}")
endforeach()
include(CPack)
