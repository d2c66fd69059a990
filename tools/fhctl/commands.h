// fhctl's subcommands. Each returns the process exit status and reports its
// own errors on stderr.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fh::ctl {

struct DecodeOptions {
  std::string file;
  std::string format = "jsonl";  // jsonl | text
  std::optional<uint16_t> port;
};
int runDecode(const DecodeOptions& options);

struct BookOptions {
  std::string file;
  std::optional<uint16_t> port;
  std::vector<std::string> symbols;
  uint32_t busiest = 0;  // when not 0: only the books with the most price levels, busiest first
  uint32_t depth = 10;  // 0: every level
  bool json = false;
  uint32_t maxOrders = 1u << 23;
  uint32_t maxLevels = 1u << 24;
};
int runBookFromFile(const BookOptions& options);

// The books of a running daemon's shared-memory region.
struct RegionOptions {
  std::string name = "fh";
  std::string directory = "/dev/shm";
};
int runBookFromRegion(const BookOptions& options, const RegionOptions& region);

}  // namespace fh::ctl
