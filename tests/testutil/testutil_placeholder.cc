// Keeps orgtrail_testutil non-empty while the helpers are being written.
namespace orgtrail::testutil {
int TestutilLinkAnchor() { return 0; }
}  // namespace orgtrail::testutil
