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
  std::string lineA, lineB;  // GROUP:PORT: a capture of the feed's lines, sequenced as fhd does live
  std::vector<std::string> symbols;
  uint32_t busiest = 0;  // when not 0: only the books with the most price levels, busiest first
  uint32_t depth = 10;   // 0: every level
  bool json = false;
  uint32_t maxOrders = 1u << 23;
  uint32_t maxLevels = 1u << 24;
  uint64_t until = UINT64_MAX;  // only messages up to this sequence (or position in a BinaryFILE)
  bool timing = false;          // say on stderr how fast the messages went into the books
};
int runBookFromFile(const BookOptions& options);

// One GLIMPSE snapshot to a BinaryFILE (glimpse.cc).
struct GlimpseOptions {
  std::string server;  // ADDRESS:PORT
  std::string username = "fh", password = "fh", session;
  std::string out;
  int timeoutMs = 15000;  // the server silent this long: give up
};
int runGlimpse(const GlimpseOptions& options);

// The books of a running daemon's shared-memory region.
struct RegionOptions {
  std::string name = "fh";
  std::string directory = "/dev/shm";
};
int runBookFromRegion(const BookOptions& options, const RegionOptions& region);

// The tick stream of a region, one line per record (tail.cc).
struct TailOptions {
  std::vector<std::string> symbols;  // empty: every instrument
  bool json = false;
  bool fromOldest = false;        // start at the oldest record in the ring, not the next one
  std::optional<uint64_t> count;  // stop after this many records shown
  std::optional<double> seconds;  // stop after this long
};
int runTail(const TailOptions& options, const RegionOptions& region);

// The region's header and counters (stats.cc).
struct StatsOptions {
  bool json = false;
  std::optional<double> watch;  // reprint every this many seconds, with rates
};
int runStats(const StatsOptions& options, const RegionOptions& region);

// A refreshing view of the busiest books (top.cc).
struct TopOptions {
  uint32_t count = 20;                 // books shown
  double interval = 1.0;               // seconds between frames
  std::optional<uint64_t> iterations;  // frames before exiting
};
int runTop(const TopOptions& options, const RegionOptions& region);

// Prometheus's text format of the regions' counters, states and histograms (exporter.cc).
struct ExporterOptions {
  std::vector<std::string> regions;       // names of the regions; empty: the one of --shm
  std::string listen = "127.0.0.1:9464";  // HOST:PORT served at /metrics
  std::optional<std::string> textfile;    // instead: write once to this file and exit
};
int runExporter(const ExporterOptions& options, const RegionOptions& region);

// The packets fhd's worker receives, from the region's capture tap, as pcapng (capture.cc).
struct CaptureOptions {
  std::string out;                 // FILE.pcapng; "-": standard output
  std::optional<uint64_t> count;   // stop after this many packets written
  std::optional<double> seconds;   // stop after this long
  std::vector<std::string> lines;  // a, b, retransmission, snapshot; empty: all
};
int runCapture(const CaptureOptions& options, const RegionOptions& region);

// Shared by the live views (defined in tail.cc). They stop on SIGINT or
// SIGTERM; SIGPIPE is ignored so that a closed output shows as EPIPE.
void installStopHandlers();
bool stopRequested();
// Sleeps up to `seconds`; false if a stop was requested meanwhile.
bool sleepUnlessStopped(double seconds);
// Wall-clock ns as UTC: "HH:MM:SS.nnnnnnnnn", or with the date first
// ("YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ").
std::string utcTime(uint64_t ns, bool withDate);

}  // namespace fh::ctl
