// libFuzzer target: arbitrary bytes as fhd's TOML configuration. Each input
// is either a configuration or an error that names what is wrong
// (ConfigError, or std::invalid_argument from the region's own checks):
// never a crash, a hang or undefined behaviour in our loader.
//
// Third-party code: toml++ is linked as Debian's shared library, built
// without our sanitizers, exactly as fhd uses it. A header-only toml++ built
// into the harness reports undefined behaviour inside toml++ itself on some
// non-ASCII input; that is toml++'s, not the loader's, and fhd never runs that
// build, so the harness does not fuzz it (the shared build returns a clean
// parse error for the same input).
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const fh::daemon::Config c = fh::daemon::parseConfig(text, "fuzz.toml");
    if (c.feeds.size() != 1) __builtin_trap();  // accepted means exactly one feed
  } catch (const fh::daemon::ConfigError&) {
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
