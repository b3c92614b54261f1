# Sourced by the scripts whose --help is their header comment.
# print_header_comment FILE: prints FILE's leading comment block (after the #! line) without the
# "# " prefix, so a longer header never needs a line range updated.
print_header_comment() {
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$1"
}
