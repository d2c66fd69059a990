// The consumer side of a daemon's shared-memory region: attach read-only by
// name, find instruments, copy consistent books, poll the tick ring, read the
// counters. Never takes a lock, never writes to the region, never slows the
// writer. A daemon restart (a new file under the same name) is noticed on the
// next idle poll() or refresh(), and the consumer re-attaches by itself.
// One Consumer per thread; any number of consumers per process and host.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "record/record.h"
#include "shm/clock.h"
#include "shm/layout.h"

namespace fh::shm {

// The users and groups named in FH_TRUSTED_WRITERS; names that do not exist are skipped.
std::vector<uid_t> trustedUsersFromEnvironment();
std::vector<gid_t> trustedGroupsFromEnvironment();

class AttachError : public std::runtime_error {
 public:
  enum class Kind { NotFound, Permission, NotARegion, VersionMismatch, Incomplete, System, Untrusted };
  AttachError(Kind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  Kind kind() const noexcept { return kind_; }

 private:
  Kind kind_;
};

struct InstrumentInfo {
  uint16_t locate = 0;
  char symbol[9] = {};  // trimmed, NUL-terminated; empty while unknown
  char tradingState = ' ';
};

struct BookSnapshot {
  uint16_t locate = 0;
  BookFields fields{};
  Level bids[kMaxDepth];  // fields.bidLevels of them, best first
  Level asks[kMaxDepth];
};

enum class CopyStatus { Ok, NoSuchInstrument, WriterStuck };

// One latency histogram as copied, whole (histogram.h).
struct HistogramSnapshot {
  HistogramFields fields{};
  uint64_t buckets[kHistogramBuckets];
  uint64_t quantile(double q) const noexcept { return histogramQuantile(fields, buckets, q); }
};

// One tick: a record of the ring, whole and consistent, valid during the call.
struct Tick {
  uint64_t index;  // 0, 1, 2...: the writer's count of records before this one
  const record::RecordHeader* header;
  uint32_t bytes;

  record::RType rtype() const noexcept { return header->rtype; }
  const record::MboMsg* mbo() const noexcept { return as<record::MboMsg>(record::RType::Mbo); }
  const record::Mbp1Msg* mbp1() const noexcept { return as<record::Mbp1Msg>(record::RType::Mbp1); }
  const record::StatusMsg* status() const noexcept { return as<record::StatusMsg>(record::RType::Status); }

 private:
  template <class T>
  const T* as(record::RType t) const noexcept {
    return header->rtype == t && bytes >= sizeof(T) ? reinterpret_cast<const T*>(header) : nullptr;
  }
};

struct PollResult {
  uint32_t records = 0;  // handed to the handler
  // Records skipped because the writer lapped this reader. A lapped reader
  // resumes at the newest record, so this counts the overwritten records and
  // the older ones still in the ring; summed over polls, records + lost is
  // every record published since a Live reader started.
  uint64_t lost = 0;
  bool reattached = false;  // a new writer: the region was mapped again; resync from the books
  // The ring lies: its indexes point, again and again, at no record. Nothing
  // more was read; the region is not to be believed (report it, stop).
  bool invalid = false;
};

enum class StartAt {
  Live,    // the next record the writer publishes
  Oldest,  // the oldest record still in the ring that a reader can find (all, if it never wrapped)
};

enum class WriterStatus { Running, Stopped, Stale };

class Consumer {
 public:
  struct Options {
    std::string directory = "/dev/shm";
    StartAt start = StartAt::Live;
    uint64_t staleAfterNs = 2'000'000'000;  // a Running writer without heartbeat this long is Stale
    uint64_t refreshEveryNs = 100'000'000;  // idle poll() looks for a new writer this often
    // Whose regions to believe, besides root's and this process's user's: a
    // region owned by anyone else is refused (AttachError::Kind::Untrusted).
    // A trusted group only helps if no untrusted user is in it (a file's
    // owner can give it to any group of their own). The defaults add the
    // users and groups of FH_TRUSTED_WRITERS ("fh,@fhwriters": names, @ for a group).
    std::vector<uid_t> trustedUsers = trustedUsersFromEnvironment();
    std::vector<gid_t> trustedGroups = trustedGroupsFromEnvironment();
  };

  // Throws AttachError with a message that names the file and the reason.
  explicit Consumer(const std::string& name);
  Consumer(const std::string& name, const Options& options);
  ~Consumer();
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  const RegionHeader& header() const noexcept { return *header_; }
  const std::string& path() const noexcept { return path_; }
  uint64_t generation() const noexcept { return header_->generation; }
  uint32_t depth() const noexcept { return geometry_.depth; }
  uint32_t maxInstruments() const noexcept { return geometry_.maxInstruments; }
  WriterStatus writerStatus() const noexcept;
  SourceState sourceState() const noexcept {
    return static_cast<SourceState>(header_->sourceState.load(std::memory_order_acquire));
  }

  // Instruments: by locate, or the first with this symbol.
  bool instrument(uint16_t locate, InstrumentInfo& out) const noexcept;
  std::optional<uint16_t> find(std::string_view symbol) const noexcept;
  // Every instrument whose symbol is known.
  std::vector<InstrumentInfo> instruments() const;

  CopyStatus copyBook(uint16_t locate, BookSnapshot& out) const noexcept;

  // Hands each new tick to handler(const Tick&), at most maxRecords. When
  // there is none and refreshEveryNs has passed, checks for a new writer.
  template <class Handler>
  PollResult poll(Handler&& handler, uint32_t maxRecords = 1024);

  // Looks for a new writer under the same name now; true if re-attached.
  bool refresh();

  uint32_t counterCount() const noexcept { return geometry_.counterCount; }
  std::string_view counterName(uint32_t index) const noexcept;
  uint64_t counter(uint32_t index) const noexcept;
  std::optional<uint32_t> findCounter(std::string_view name) const noexcept;

  // Latency histograms (layout 1.3; none in an older region's).
  uint32_t histogramCount() const noexcept { return geometry_.histogramCount; }
  std::string_view histogramName(uint32_t index) const noexcept;
  // NoSuchInstrument: no histogram `index`.
  CopyStatus copyHistogram(uint32_t index, HistogramSnapshot& out) const noexcept;

  // The capture tap (layout 1.4; tap.h reads it): null, and 0 bytes, where
  // the region has none.
  const TapHeader* tapHeader() const noexcept {
    return geometry_.tapBytes == 0 ? nullptr : reinterpret_cast<const TapHeader*>(base_ + geometry_.tapOffset);
  }
  const uint8_t* tapRing() const noexcept { return base_ + geometry_.tapOffset + 4096; }
  uint64_t tapBytes() const noexcept { return geometry_.tapBytes; }
  // DIR/.NAME.tap, whose lock attaches a capture.
  std::string tapLockPath() const { return options_.directory + "/." + name_ + ".tap"; }

 private:
  enum class Next { Record, Padding, Empty, Lapped };
  static constexpr uint32_t kMaxSkips = 4096;
  static constexpr uint32_t kMaxLaps = 64;
  void map(bool first);
  void unmap() noexcept;
  struct Cursor {
    uint64_t cursor = 0, expected = 0;
    bool knowExpected = false;
  };
  // Where a poll of this ring starts; false: no record where it says the newest is.
  bool startCursor(const RegionHeader* h, const uint8_t* ring, uint64_t mask, Cursor& out) const noexcept;
  Next next(uint64_t& index);  // one frame into frame_, or what prevented it

  // The layout as validated at attach, kept here: the header's copy is shared
  // memory and is never read again for sizes or offsets.
  struct Layout {
    uint32_t maxInstruments = 0, depth = 0, counterCount = 0, histogramCount = 0;
    uint64_t directoryOffset = 0, booksOffset = 0, bookBytes = 0, countersOffset = 0, histogramsOffset = 0;
    uint64_t tapOffset = 0, tapBytes = 0;
  };

  std::string name_;
  std::string path_;
  Layout geometry_;
  Options options_;
  int fd_ = -1;
  ino_t inode_ = 0;
  const uint8_t* base_ = nullptr;
  size_t bytes_ = 0;
  const RegionHeader* header_ = nullptr;
  const uint8_t* ring_ = nullptr;
  uint64_t ringMask_ = 0;
  uint64_t cursor_ = 0;
  uint64_t expected_ = 0;      // index of the next record this reader should see
  bool knowExpected_ = false;  // false after a start or a lap, until a record is read
  uint64_t nextRefreshNs_ = 0;
  alignas(8) uint8_t frame_[kMaxFrameBytes];
};

template <class Handler>
PollResult Consumer::poll(Handler&& handler, uint32_t maxRecords) {
  PollResult result;
  bool lapped = false;
  // Every step is bounded: padding is skipped at most kMaxSkips times a poll
  // (a later poll goes on), and a lap that lands on no record kMaxLaps times
  // in a row means the ring lies.
  uint32_t skips = 0, laps = 0;
  while (result.records < maxRecords) {
    uint64_t index = 0;
    const Next n = next(index);
    if (n == Next::Padding) {
      if (++skips > kMaxSkips) break;
      continue;
    }
    if (n == Next::Lapped) {
      lapped = true;
      if (++laps > kMaxLaps) {
        result.invalid = true;
        break;
      }
      continue;
    }
    laps = 0;
    if (n == Next::Empty) {
      if (result.records == 0 && !lapped && monotonicCoarseNs() >= nextRefreshNs_) result.reattached = refresh();
      break;
    }
    if (knowExpected_ && index > expected_) result.lost += index - expected_;
    expected_ = index + 1;
    knowExpected_ = true;
    const auto* frame = reinterpret_cast<const RingFrame*>(frame_);
    handler(Tick{index, reinterpret_cast<const record::RecordHeader*>(frame_ + sizeof(RingFrame)),
                 frame->length - static_cast<uint32_t>(sizeof(RingFrame))});
    ++result.records;
  }
  return result;
}

}  // namespace fh::shm
