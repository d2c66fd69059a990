// The writer of a shared-memory region (layout.h): creates /dev/shm/NAME
// whole under a temporary name and renames it into place, so readers never see
// a half-made region; then publishes directory entries, books, tick-ring
// records, counters and histograms, and tapped packets. Construction and destruction are control plane (they
// throw, allocate, make system calls); every other member is for the one
// writer thread, never blocks, never allocates, never waits for a reader.
#pragma once

#include <sys/types.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "shm/layout.h"
#include "shm/words.h"
#include "util/prefetch.h"

namespace fh::shm {

struct RegionConfig {
  std::string name = "fh";  // the file /dev/shm/NAME: letters, digits, '.', '_', '-'
  std::string directory = "/dev/shm";
  uint32_t maxInstruments = 65536;   // stock locates 0 .. maxInstruments-1
  uint32_t depth = 10;               // levels per side in each published book, 1..kMaxDepth
  uint64_t ringBytes = 64ull << 20;  // tick ring, a power of two, 64 KiB .. 16 GiB
  std::string group;                 // group owner of the file; empty: the process's own
  mode_t mode = 0640;
  std::vector<std::string> counters;    // names of the counter slots, in order
  std::vector<std::string> histograms;  // names of the latency histograms, in order
  uint64_t tapBytes = 16ull << 20;      // the capture tap's ring: 0 (none), or a power of two, 1 MiB .. 1 GiB
  // What a capture writes into the headers it gives each line's packets (by TapLine).
  TapEndpoints tapEndpoints[kTapLines] = {};
};

// Throws std::invalid_argument naming the key for a value out of range.
void validate(const RegionConfig& config);

// The path of a region's file.
std::string regionPath(const RegionConfig& config);
// Removes a region and its name's lock and tap files (DIR/NAME, .NAME.lock,
// .NAME.tap), for a name this process alone used (a benchmark's, a test's):
// a shared name's lock files stay, as layout.h says.
void removeRegionFiles(const std::string& directory, const std::string& name);

class RegionWriter {
 public:
  // Refuses (std::runtime_error, saying why) when a live writer holds NAME,
  // when what is at the path is not a region file of this user's, or when
  // the filesystem cannot hold the whole region; nothing is left behind.
  explicit RegionWriter(const RegionConfig& config);
  ~RegionWriter();  // marks the region Stopped; the file stays for post-mortem readers
  RegionWriter(const RegionWriter&) = delete;
  RegionWriter& operator=(const RegionWriter&) = delete;

  const RegionHeader& header() const noexcept { return *header_; }
  const std::string& path() const noexcept { return path_; }
  uint32_t depth() const noexcept { return depth_; }
  uint32_t maxInstruments() const noexcept { return maxInstruments_; }

  // --- the writer thread ---
  void setInstrument(uint16_t locate, const char (&symbol)[8], char tradingState) noexcept;

  // Publishes one book: `bids` and `asks` best first, at most depth() of each
  // (more are cut). The caller fills `fields` except the level counts. Only
  // the levels in each side's `changed` range are written: the others are
  // unchanged since the last publish of this book (and the arrays need not
  // hold them).
  void publishBook(uint16_t locate, const BookFields& fields, const Level* bids, uint32_t bidCount, const Level* asks,
                   uint32_t askCount, LevelRange bidChanged = {}, LevelRange askChanged = {}) noexcept;
  // The same with the levels written where they are read, no array between:
  // `fields` whole, their level counts (cut to depth()) included, then for
  // each side (0 bids, 1 asks) levels(side, put) calls put(k, level) for
  // each level k from the top that changed. Inline: the hot path's.
  template <class Levels>
  void publishBook(uint16_t locate, const BookFields& fields, Levels&& levels) noexcept;

  // Starts fetching, a few books ahead, the lines publishBook() will write
  // with the same ranges: the header and the changed levels of each side.
  void prefetchBook(uint16_t locate, LevelRange bidChanged, LevelRange askChanged) const noexcept {
    if (locate >= maxInstruments_) return;
    const uint8_t* at = books_ + size_t{locate} * bookBytes_;
    prefetchWrite(at);  // the seqlock and the fields
    const auto* levels = reinterpret_cast<const Level*>(at + sizeof(BookHeader));
    const auto range = [&](const Level* side, LevelRange r) {
      const uint32_t to = std::min(r.to, depth_);
      if (r.from >= to) return;
      for (uint32_t i = r.from; i < to; i += kCacheLine / sizeof(Level)) prefetchWrite(side + i);
      prefetchWrite(side + to - 1);
    };
    range(levels, bidChanged);
    range(levels + depth_, askChanged);
  }

  // Appends one record (a DBN-style record, `bytes` <= kMaxRecordBytes, a
  // multiple of 4) to the tick ring, written straight into its frame. Never
  // waits: a slow reader is lapped. Inline: it is the hot path's last step.
  void publish(const void* record, uint32_t bytes) noexcept {
    bytes = std::min(bytes, kMaxRecordBytes);
    append(bytes, [&](uint8_t* at) { storeBytes(at, record, bytes); });  // a last half word zero-padded
  }
  // The same for a record type of a whole number of words: its size is
  // known here, so the copy into the frame is one store a word, no loop.
  template <class Record>
  void publish(const Record& record) noexcept {
    static_assert(sizeof(Record) % 8 == 0 && alignof(Record) >= 8 && sizeof(Record) <= kMaxRecordBytes);
    append(sizeof(Record), [&](uint8_t* at) { storeWords<sizeof(Record)>(at, &record); });
  }
  // The same from a record's words, assembled by the caller (record.h's
  // words()): each goes to the ring as it is, no copy of the record between.
  template <size_t N>
  void publish(const std::array<uint64_t, N>& words) noexcept {
    static_assert(N * 8 <= kMaxRecordBytes);
    append(N * 8, [&](uint8_t* at) { storeWords<N * 8>(at, words.data()); });
  }
  uint64_t recordsPublished() const noexcept { return nextIndex_; }

  std::atomic<uint64_t>& counter(size_t index) noexcept { return counters_[index].value; }
  void add(size_t index, uint64_t n) noexcept {
    auto& v = counters_[index].value;
    v.store(v.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  void set(size_t index, uint64_t n) noexcept { counters_[index].value.store(n, std::memory_order_relaxed); }

  // Brings the region's copy of histogram `index` up to date with `h` under
  // its seqlock: the totals, and only the buckets h touched since it was last
  // published (it is marked published).
  void publishHistogram(size_t index, Histogram& h) noexcept;

  // The capture tap (layout.h). Whether a capture is attached: one load of a
  // line that changes only when one attaches or goes.
  bool tapping() const noexcept { return tap_ != nullptr && tap_->active.load(std::memory_order_relaxed) != 0; }
  // Copies one packet's payload into the tap's ring. Never waits: a slow
  // capture is lapped. A payload over kMaxTapPayload, or over a quarter of
  // the ring, is counted in `refused` and not kept.
  void tap(TapLine line, uint64_t recvNs, std::span<const uint8_t> payload) noexcept;

  const TapHeader* tapHeader() const noexcept { return tap_; }

  // --- any thread of the writer's process ---
  void heartbeat() noexcept;
  void setSourceState(SourceState state) noexcept;
  // Looks for a capture holding the tap's lock and sets `active` to match;
  // true while one is attached. The housekeeping thread's, every 100 ms.
  bool probeTap() noexcept;

 private:
  static constexpr uint64_t kRingLookahead = 8 * kCacheLine;  // bytes ahead of the tail fetched for writing

  void create(const RegionConfig& config);
  // Frames `bytes` of record (at most kMaxRecordBytes) in the ring:
  // writeRecord(at) stores them at `at`, as words.
  template <class WriteRecord>
  [[gnu::always_inline]] void append(uint32_t bytes, WriteRecord&& writeRecord) noexcept;

  std::string path_;
  int lockFd_ = -1;  // flock(LOCK_EX) on DIR/.NAME.lock while this writer lives
  uint8_t* base_ = nullptr;
  size_t bytes_ = 0;
  RegionHeader* header_ = nullptr;
  DirectoryEntry* directory_ = nullptr;
  uint8_t* books_ = nullptr;
  uint8_t* ring_ = nullptr;
  CounterSlot* counters_ = nullptr;
  HistogramSlot* histograms_ = nullptr;
  uint32_t histogramCount_ = 0;
  uint32_t maxInstruments_ = 0;
  uint32_t depth_ = 0;
  uint32_t bookBytes_ = 0;
  uint64_t ringMask_ = 0;
  uint64_t tail_ = 0;       // the writer's own copy of ringTail
  uint64_t nextIndex_ = 0;  // index of the next record
  int tapFd_ = -1;          // DIR/.NAME.tap
  TapHeader* tap_ = nullptr;
  uint8_t* tapRing_ = nullptr;
  uint64_t tapMask_ = 0;
  uint64_t tapTail_ = 0;
  uint64_t tapIndex_ = 0;
};

template <class Levels>
inline void RegionWriter::publishBook(uint16_t locate, const BookFields& fields, Levels&& levels) noexcept {
  if (locate >= maxInstruments_) return;
  uint8_t* at = books_ + size_t{locate} * bookBytes_;
  auto* book = reinterpret_cast<BookHeader*>(at);
  const uint32_t counts[2] = {std::min<uint32_t>(fields.bidLevels, depth_),
                              std::min<uint32_t>(fields.askLevels, depth_)};
  // The fields as words put together in registers (record.h's words() says
  // why); the reserved bytes are zero.
  static_assert(std::endian::native == std::endian::little && offsetof(BookFields, instrumentId) == 32);
  const uint64_t words[sizeof(BookFields) / 8] = {
      fields.lastSequence,
      fields.tsEvent,
      fields.tsRecv,
      fields.updates,
      uint64_t{locate} | uint64_t{counts[0]} << 32 | uint64_t{counts[1]} << 48,
      uint64_t{static_cast<uint8_t>(fields.status)} | uint64_t{static_cast<uint8_t>(fields.tradingState)} << 8,
      0};
  const uint64_t s = seqlockBegin(book->seq);
  storeWords<sizeof words>(&book->fields, words);
  for (int side = 0; side < 2; ++side) {
    Level* slots = reinterpret_cast<Level*>(at + sizeof(BookHeader)) + (side == 0 ? 0 : depth_);
    const uint32_t count = counts[side];
    levels(side, [&](uint32_t k, const Level& l) {
      if (k < count) storeWords<sizeof l>(slots + k, &l);
    });
  }
  seqlockEnd(book->seq, s);
}

template <class WriteRecord>
inline void RegionWriter::append(uint32_t bytes, WriteRecord&& writeRecord) noexcept {
  const uint32_t frameBytes = (static_cast<uint32_t>(sizeof(RingFrame)) + bytes + 7) & ~7u;
  uint64_t offset = tail_ & ringMask_;
  const uint64_t room = ringMask_ + 1 - offset;
  const uint64_t padding = room < frameBytes ? room : 0;
  const uint64_t intent = tail_ + padding + frameBytes;

  // Readers of the bytes about to be overwritten learn of it from the intent.
  header_->ringTailIntent.store(intent, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  if (padding != 0) {
    if (padding >= sizeof(RingFrame)) {  // less than a frame header: readers skip it unmarked
      const RingFrame pad{static_cast<uint32_t>(padding), FrameType::Padding, nextIndex_};
      storeWords(ring_ + offset, &pad, sizeof pad);
    }
    offset = 0;
  }
  uint8_t* at = ring_ + offset;
  // The ring's lines come in order: ask for one a few records ahead.
  prefetchWrite(ring_ + ((offset + kRingLookahead) & ringMask_));
  const RingFrame head{frameBytes, FrameType::Record, nextIndex_};
  storeWords<sizeof head>(at, &head);
  writeRecord(at + sizeof head);
  header_->ringLatest.store(tail_ + padding, std::memory_order_release);
  header_->ringTail.store(intent, std::memory_order_release);
  tail_ = intent;
  ++nextIndex_;
}

}  // namespace fh::shm
