// The byte layout of a daemon's shared-memory region (/dev/shm/NAME): a
// versioned header, the instrument directory, one top-of-book snapshot per
// instrument under a seqlock, the tick ring (one writer, many readers), the
// counters, the latency histograms and the capture tap. Shared by the writer (writer.h) and readers (consumer.h); a
// reader in another process, even of another build, depends on nothing else. The region is written only by its one
// writer thread.
//
// Ownership of a name: a writer holds flock(LOCK_EX) on DIR/.NAME.lock (a
// regular file of its own user, never removed) for its whole life, and only
// then makes the region under a temporary name and renames it over NAME. The
// kernel drops the lock when the writer's process ends, however it ends, so
// the lock, not the region's contents, says whether a live writer owns NAME:
// two writers started together cannot both hold it, and a dead one never
// blocks its successor. A writer refuses a lock file or a region path that is
// not a regular file of its own user (a squatter's, a FIFO, a link).
// Readers open with O_NOFOLLOW and O_NONBLOCK, take only a regular file, and
// trust a region only if its owner is root, themselves, or a user or group
// they were told to trust (consumer.h).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "record/record.h"
#include "shm/histogram.h"

namespace fh::shm {

inline constexpr uint64_t kMagic = 0x3130'4D48'5348'4866ULL;  // "fHSHMH01", little-endian
// Readers refuse any other major version; a minor version only adds fields
// in space that older readers skip.
inline constexpr uint16_t kLayoutMajor = 1;
// 1.1: BookStatus::Joining; 1.2: SourceState::Stopped; 1.3: latency histograms;
// 1.4: the capture tap
inline constexpr uint16_t kLayoutMinor = 4;
inline constexpr uint32_t kLayoutVersion = uint32_t{kLayoutMajor} << 16 | kLayoutMinor;
inline constexpr uint32_t kMaxDepth = 64;  // levels per side a region may publish
inline constexpr uint32_t kMaxCounters = 256;
inline constexpr uint32_t kMaxHistograms = 16;
inline constexpr size_t kCacheLine = 64;

static_assert(std::atomic<uint64_t>::is_always_lock_free && std::atomic<uint32_t>::is_always_lock_free,
              "atomics in shared memory must be lock-free (and so address-free)");

enum class WriterState : uint32_t { Starting = 0, Running = 1, Stopped = 2 };

// The source's progress, for tools and tests: a file replay reaches Done.
// Stopped (layout 1.2): a network source the daemon was told to stop.
enum class SourceState : uint32_t { Idle = 0, Running = 1, Done = 2, Failed = 3, Stopped = 4 };

struct alignas(kCacheLine) RegionHeader {
  uint64_t magic;
  // 0 while the region is being made; written last, with a release store.
  std::atomic<uint32_t> layoutVersion;
  uint32_t headerBytes;
  uint64_t totalBytes;
  uint64_t generation;  // differs on every start of a writer
  uint64_t startNs;     // CLOCK_REALTIME at creation
  int32_t writerPid;
  uint32_t reserved0;

  uint64_t directoryOffset;
  uint32_t maxInstruments;  // directory entries and books, indexed by stock locate
  uint32_t directoryEntryBytes;
  uint64_t booksOffset;
  uint32_t bookBytes;  // stride of one book
  uint32_t depth;      // levels per side in each book
  uint64_t ringOffset;
  uint64_t ringBytes;  // a power of two
  uint64_t countersOffset;
  uint32_t counterCount;  // slots in use
  uint32_t counterBytes;  // stride of one slot
  char instance[64];      // the daemon instance's name, NUL-terminated
  // Layout 1.3; zero in older regions, which have no histograms.
  uint64_t histogramsOffset;
  uint32_t histogramCount;
  uint32_t histogramBytes;  // stride of one slot
  // Layout 1.4; zero in older regions, and where the tap is configured off.
  uint64_t tapOffset;  // a TapHeader, then the tap's ring
  uint64_t tapBytes;   // of the ring, a power of two
  uint8_t reserved1[32];

  alignas(kCacheLine) std::atomic<uint32_t> writerState;  // WriterState
  std::atomic<uint32_t> sourceState;                      // SourceState
  std::atomic<uint64_t> heartbeatNs;                      // CLOCK_REALTIME, every ~100 ms while running

  // Tick ring control, each on its own line: the writer's progress in bytes
  // since the start (positions grow forever; offset = position & (ringBytes-1)).
  alignas(kCacheLine) std::atomic<uint64_t> ringTailIntent;  // set before a record's bytes are written
  alignas(kCacheLine) std::atomic<uint64_t> ringTail;        // set after: records below are complete
  alignas(kCacheLine) std::atomic<uint64_t> ringLatest;      // position of the last complete record
};
static_assert(std::is_standard_layout_v<RegionHeader>);
static_assert(offsetof(RegionHeader, layoutVersion) == 8);
static_assert(offsetof(RegionHeader, directoryOffset) == 48);
static_assert(offsetof(RegionHeader, instance) == 112);
static_assert(offsetof(RegionHeader, histogramsOffset) == 176);
static_assert(offsetof(RegionHeader, tapOffset) == 192);
static_assert(offsetof(RegionHeader, writerState) == 256);
static_assert(offsetof(RegionHeader, ringTailIntent) == 320);
static_assert(offsetof(RegionHeader, ringTail) == 384);
static_assert(offsetof(RegionHeader, ringLatest) == 448);
static_assert(sizeof(RegionHeader) == 512);

// One instrument of the directory, under its own seqlock (seq odd while the
// writer changes it). Symbols come from the stock directory (R) messages.
struct InstrumentFields {
  char symbol[8];         // space-padded as on the wire; all zero while unknown
  uint32_t instrumentId;  // the stock locate (DBN instrument_id)
  char tradingState;      // ITCH H: 'H' halted, 'P' paused, 'Q' quotation only, 'T' trading; ' ' unknown
  uint8_t reserved[11];
};
struct DirectoryEntry {
  std::atomic<uint64_t> seq;
  InstrumentFields fields;
};
static_assert(sizeof(InstrumentFields) == 24);
static_assert(sizeof(DirectoryEntry) == 32);
static_assert(offsetof(DirectoryEntry, fields) == 8);

enum class BookStatus : uint8_t {
  Normal = 0,
  Halted = 1,   // trading state H or P
  Stale = 2,    // maybe wrong: an update could not be applied, or a gap was not recovered
  Joining = 3,  // incomplete: the feed was joined in mid-session, orders from before are missing
};

// A price level as published: DBN units (price in 1e-9).
struct Level {
  int64_t price;
  uint64_t shares;  // total open shares at the price
  uint32_t orders;
  uint32_t reserved;
};
static_assert(sizeof(Level) == 24);

// Levels [from, to) of one side, from the top: what changed in a book.
struct LevelRange {
  uint32_t from = 0;
  uint32_t to = UINT32_MAX;
};

// The head of one instrument's book; `depth` bid levels then `depth` ask
// levels follow it, best first. Under a seqlock: `seq` is odd while the writer
// changes the book; a reader copies, then checks that seq did not move.
struct BookFields {
  uint64_t lastSequence;  // feed sequence number of the last message applied
  uint64_t tsEvent;       // of that message, ns since the UNIX epoch
  uint64_t tsRecv;
  uint64_t updates;  // messages applied to this book
  uint32_t instrumentId;
  uint16_t bidLevels;  // levels published (at most depth)
  uint16_t askLevels;
  BookStatus status;
  char tradingState;
  uint8_t reserved[14];
};
struct alignas(kCacheLine) BookHeader {
  std::atomic<uint64_t> seq;
  BookFields fields;
};
static_assert(sizeof(BookFields) == 56);
static_assert(sizeof(BookHeader) == 64);
static_assert(offsetof(BookHeader, fields) == 8);
static_assert(offsetof(BookFields, bidLevels) == 36);
static_assert(offsetof(BookFields, status) == 40);

constexpr uint32_t bookBytes(uint32_t depth) noexcept {
  const size_t raw = sizeof(BookHeader) + 2 * size_t{depth} * sizeof(Level);
  return static_cast<uint32_t>((raw + kCacheLine - 1) / kCacheLine * kCacheLine);
}

// Tick ring records: this frame, then a DBN-style record (MboMsg, Mbp1Msg,
// StatusMsg), the whole padded to 8 bytes. A record never wraps: the writer
// fills the end of the buffer with a padding record and starts again at 0.
enum class FrameType : uint32_t { Padding = 0, Record = 1 };
struct RingFrame {
  uint32_t length;  // bytes of the frame, header included, a multiple of 8
  FrameType type;
  uint64_t index;  // records published before this one (padding excluded)
};
static_assert(sizeof(RingFrame) == 16);
inline constexpr uint32_t kMaxRecordBytes = 128;
inline constexpr uint32_t kMaxFrameBytes = sizeof(RingFrame) + kMaxRecordBytes;

// One counter: its value, written by the writer with relaxed stores, and its
// name. A line of its own, so that readers polling it never slow the writer.
struct alignas(kCacheLine) CounterSlot {
  std::atomic<uint64_t> value;
  char name[56];  // NUL-terminated, e.g. "packets.malformed"
};
static_assert(sizeof(CounterSlot) == 64);

// One latency histogram (histogram.h): its name and bucket count, set once
// at creation, then its totals and buckets under a seqlock, so that a reader's
// copy is whole (count is negative plus the sum of the buckets).
struct alignas(kCacheLine) HistogramSlot {
  std::atomic<uint64_t> seq;
  char name[48];           // NUL-terminated, e.g. "latency.feed_to_receive_ns"
  uint32_t bucketCount;    // kHistogramBuckets
  uint32_t subBucketBits;  // kHistogramSubBits
  alignas(kCacheLine) HistogramFields fields;
  uint64_t buckets[kHistogramBuckets];
};
static_assert(offsetof(HistogramSlot, fields) == 64);
static_assert(offsetof(HistogramSlot, buckets) == 128);
static_assert(sizeof(HistogramSlot) == 128 + 8 * kHistogramBuckets);

// The capture tap (layout 1.4): while a capture is attached, the worker
// copies every feed packet it receives into the tap's ring, as it is handed to
// the feed, after the feed is done with it. A capture attaches by holding
// flock(LOCK_SH) on DIR/.NAME.tap (a regular file of the writer's, readable
// by the region's readers); the writer's housekeeping looks for such a lock
// every 100 ms and sets `active` while one is held. So a reader, who cannot
// write the region, can switch the tap on, and a capture that dies switches
// it off by dying. The ring works as the tick ring does (intent, tail,
// latest; a slow capture is lapped, never waited for), with frames of any
// size up to kMaxTapPayload bytes of payload.
inline constexpr uint32_t kTapLines = 4;
enum class TapLine : uint8_t { A = 0, B = 1, Retransmission = 2, Snapshot = 3 };
inline constexpr uint32_t kMaxTapPayload = 65507;     // the largest UDP payload over IPv4
inline constexpr uint64_t kMinTapBytes = 1u << 20;    // shm.tap_mib: 1 MiB ..
inline constexpr uint64_t kMaxTapBytes = 1ull << 30;  // .. 1 GiB

// Where a line's packets come from and go to, as the daemon's configuration
// says, so that a capture can give them IPv4 and UDP (or TCP) headers: the tap
// keeps payloads only. Zero where the configuration does not say.
struct TapEndpoints {
  uint32_t srcAddr;  // IPv4, host byte order
  uint32_t dstAddr;
  uint16_t srcPort;
  uint16_t dstPort;
  uint8_t protocol;  // 17 (UDP) or 6 (TCP); 0: the line is not configured
  uint8_t reserved[3];
};
static_assert(sizeof(TapEndpoints) == 16);

struct alignas(kCacheLine) TapHeader {
  std::atomic<uint32_t> active;  // 1 while a capture holds the tap's lock
  uint32_t reserved0;
  uint64_t reserved1;
  TapEndpoints lines[kTapLines];  // by TapLine
  alignas(kCacheLine) std::atomic<uint64_t> tailIntent;
  alignas(kCacheLine) std::atomic<uint64_t> tail;
  alignas(kCacheLine) std::atomic<uint64_t> latest;
  alignas(kCacheLine) std::atomic<uint64_t> packets;  // frames written since the writer started
  std::atomic<uint64_t> refused;                      // payloads too large for the ring, not kept
};
static_assert(sizeof(TapHeader) == 384);
static_assert(offsetof(TapHeader, lines) == 16);
static_assert(offsetof(TapHeader, tailIntent) == 128);

enum class TapFrameType : uint16_t { Padding = 0, Packet = 1 };
// One tapped packet: this frame, then its payload, the whole padded to 8.
struct TapFrame {
  uint32_t length;  // bytes of the frame, header included, a multiple of 8
  TapFrameType type;
  uint8_t line;  // TapLine
  uint8_t reserved0;
  uint64_t index;   // frames written before this one (padding excluded)
  uint64_t recvNs;  // the packet's receive time, CLOCK_REALTIME
  uint32_t payloadBytes;
  uint32_t reserved1;
};
static_assert(sizeof(TapFrame) == 32);

// The layout that a writer with these sizes produces.
struct Geometry {
  uint32_t maxInstruments;
  uint32_t depth;
  uint64_t ringBytes;
  uint32_t counterCount;
  uint32_t histogramCount = 0;
  uint64_t tapBytes = 0;  // 0: no tap

  uint64_t directoryOffset() const noexcept { return sizeof(RegionHeader); }
  uint64_t booksOffset() const noexcept {
    return align(directoryOffset() + uint64_t{maxInstruments} * sizeof(DirectoryEntry), 4096);
  }
  uint64_t ringOffset() const noexcept {
    return align(booksOffset() + uint64_t{maxInstruments} * bookBytes(depth), 4096);
  }
  uint64_t countersOffset() const noexcept { return align(ringOffset() + ringBytes, 4096); }
  uint64_t histogramsOffset() const noexcept {
    return align(countersOffset() + uint64_t{counterCount} * sizeof(CounterSlot), 4096);
  }
  uint64_t tapOffset() const noexcept {
    return tapBytes == 0 ? 0 : align(histogramsOffset() + uint64_t{histogramCount} * sizeof(HistogramSlot), 4096);
  }
  uint64_t tapRingOffset() const noexcept { return tapOffset() + 4096; }  // the TapHeader's page, then the ring
  uint64_t totalBytes() const noexcept {
    return tapBytes != 0 ? tapRingOffset() + tapBytes
                         : align(histogramsOffset() + uint64_t{histogramCount} * sizeof(HistogramSlot), 4096);
  }
  static constexpr uint64_t align(uint64_t v, uint64_t to) noexcept { return (v + to - 1) / to * to; }
};

}  // namespace fh::shm
