// A small region for tests: 64 instruments, depth 4, a 64 KiB ring, two
// counters, the smallest capture tap (1 MiB), in a test's own directory.
#pragma once

#include <string>

#include "process.h"
#include "shm/writer.h"

namespace fh::test {

inline shm::RegionConfig smallRegion(const TempDir& dir, const std::string& name = "t") {
  shm::RegionConfig c;
  c.name = name;
  c.directory = dir.str();
  c.maxInstruments = 64;
  c.depth = 4;
  c.ringBytes = 64 << 10;
  c.counters = {"alpha", "beta"};
  c.tapBytes = shm::kMinTapBytes;
  return c;
}

}  // namespace fh::test
