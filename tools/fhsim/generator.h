// fhsim generate: a synthetic Nasdaq TotalView-ITCH 5.0 trading day written as
// a BinaryFILE, fully determined by its options (own PRNG, no libm, no std::
// distributions). Single-threaded control-plane code; throws on bad options
// (std::invalid_argument) and on I/O errors (std::runtime_error naming the path).
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace fh::sim {

struct GeneratorOptions {
  uint64_t messages = 25'000'000;  // every message of the file, the day's frame included
  uint32_t symbols = 8000;         // stock locates 1..symbols
  uint64_t seed = 1;
};

struct GeneratorSummary {
  uint64_t messages = 0;
  uint64_t bytes = 0;
  uint32_t symbols = 0;
  std::array<uint64_t, 256> byType{};
  uint64_t peakLiveOrders = 0;
  uint64_t finalLiveOrders = 0;
  uint64_t firstOrderRef = 0;
  uint64_t lastOrderRef = 0;
};

// The smallest --messages that holds the day's fixed frame (system events,
// directory, trading actions, opening and closing crosses) for `symbols`.
uint64_t minimumMessages(uint32_t symbols) noexcept;

// Writes the day to `path` ("-" for standard output).
GeneratorSummary generate(const GeneratorOptions& options, const std::string& path);

// A few lines for people: messages by type, live orders, symbols.
std::string describe(const GeneratorSummary& summary);

}  // namespace fh::sim
