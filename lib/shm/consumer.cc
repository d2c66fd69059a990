#include "shm/consumer.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "shm/clock.h"
#include "shm/words.h"

namespace fh::shm {

namespace {

// FH_TRUSTED_WRITERS: comma-separated user names, and group names after '@'.
std::vector<std::string> trustedNames(bool groups) {
  std::vector<std::string> names;
  const char* env = std::getenv("FH_TRUSTED_WRITERS");
  if (env == nullptr) return names;
  std::string item;
  for (const char* p = env;; ++p) {
    if (*p == ',' || *p == '\0') {
      if (!item.empty() && (item[0] == '@') == groups) names.push_back(groups ? item.substr(1) : item);
      item.clear();
      if (*p == '\0') break;
    } else if (*p != ' ') {
      item += *p;
    }
  }
  return names;
}

std::string userName(uid_t uid) {
  const passwd* p = ::getpwuid(uid);
  return (p != nullptr ? std::string(p->pw_name) + " " : std::string()) + "(uid " + std::to_string(uid) + ")";
}

}  // namespace

std::vector<uid_t> trustedUsersFromEnvironment() {
  std::vector<uid_t> uids;
  for (const std::string& n : trustedNames(false))
    if (const passwd* p = ::getpwnam(n.c_str())) uids.push_back(p->pw_uid);
  return uids;
}

std::vector<gid_t> trustedGroupsFromEnvironment() {
  std::vector<gid_t> gids;
  for (const std::string& n : trustedNames(true))
    if (const group* g = ::getgrnam(n.c_str())) gids.push_back(g->gr_gid);
  return gids;
}

Consumer::Consumer(const std::string& name) : Consumer(name, Options{}) {}

Consumer::Consumer(const std::string& name, const Options& options)
    : name_(name), path_(options.directory + "/" + name), options_(options) {
  if (name.empty() || name.find('/') != std::string::npos)
    throw AttachError(AttachError::Kind::NotFound, "'" + name + "' is not a region name");
  map(true);
}

Consumer::~Consumer() { unmap(); }

void Consumer::unmap() noexcept {
  if (base_ != nullptr) ::munmap(const_cast<uint8_t*>(base_), bytes_);
  if (fd_ >= 0) ::close(fd_);
  base_ = nullptr;
  header_ = nullptr;
  fd_ = -1;
}

// Maps the file read-only and checks it from the magic to the last offset; on
// any failure the consumer keeps what it had (when re-attaching) and throws.
void Consumer::map(bool first) {
  using Kind = AttachError::Kind;
  // Never blocks (a FIFO put at the path), never follows a link.
  const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) {
    const int e = errno;
    const Kind kind = e == ENOENT   ? Kind::NotFound
                      : e == EACCES ? Kind::Permission
                      : e == ELOOP  ? Kind::NotARegion
                                    : Kind::System;
    throw AttachError(kind, path_ + ": " + std::strerror(e) +
                                (e == ENOENT   ? " (is fhd running with this shm name?)"
                                 : e == EACCES ? " (readers need the region's group)"
                                 : e == ELOOP  ? " (a symbolic link, not a region)"
                                               : ""));
  }
  struct stat st {};
  const auto fail = [&](Kind kind, const std::string& why) {
    ::close(fd);
    throw AttachError(kind, path_ + ": " + why);
  };
  if (::fstat(fd, &st) != 0) fail(Kind::System, std::strerror(errno));
  if (!S_ISREG(st.st_mode)) fail(Kind::NotARegion, "not a regular file, so not a region");
  // Whoever may write it could forge it, or truncate it under every reader.
  if ((st.st_mode & 022) != 0)
    fail(Kind::Untrusted, "writable by its group or by others, so anyone of them could forge it");
  if (st.st_nlink != 1) fail(Kind::Untrusted, "has other names (hard links): not a region fhd made");
  const auto& users = options_.trustedUsers;
  const auto& groups = options_.trustedGroups;
  const bool trusted = st.st_uid == 0 || st.st_uid == ::geteuid() || st.st_uid == ::getuid() ||
                       std::find(users.begin(), users.end(), st.st_uid) != users.end() ||
                       std::find(groups.begin(), groups.end(), st.st_gid) != groups.end();
  if (!trusted)
    fail(Kind::Untrusted, "owned by " + userName(st.st_uid) +
                              ", whom this reader does not trust: only root, this user, and the users and groups "
                              "of FH_TRUSTED_WRITERS (or the options) are believed");
  if (size_t(st.st_size) < sizeof(RegionHeader)) fail(Kind::NotARegion, "too small to be an fh region");
  // Populated now, so that reading the ring never takes a page fault later.
  void* p = ::mmap(nullptr, size_t(st.st_size), PROT_READ, MAP_SHARED | MAP_POPULATE, fd, 0);
  if (p == MAP_FAILED) fail(Kind::System, std::string("cannot map: ") + std::strerror(errno));
  const auto* h = static_cast<const RegionHeader*>(p);
  const auto reject = [&](Kind kind, const std::string& why) {
    ::munmap(p, size_t(st.st_size));
    fail(kind, why);
  };
  if (h->magic != kMagic) reject(Kind::NotARegion, "not an fh shared-memory region");
  const uint32_t version = h->layoutVersion.load(std::memory_order_acquire);
  if (version == 0) reject(Kind::Incomplete, "the region is still being made");
  if (version >> 16 != kLayoutMajor)
    reject(Kind::VersionMismatch, "layout version " + std::to_string(version >> 16) + "." +
                                      std::to_string(version & 0xFFFF) + ", this reader knows " +
                                      std::to_string(kLayoutMajor) + ".x");
  // One copy of the header's sizes, checked, then used for good: the shared
  // copy may change under us.
  RegionHeader copy;
  std::memcpy(static_cast<void*>(&copy), p, sizeof copy);
  const Geometry g{copy.maxInstruments, copy.depth, copy.ringBytes, copy.counterCount};
  const bool consistent = copy.totalBytes <= uint64_t(st.st_size) && copy.depth >= 1 && copy.depth <= kMaxDepth &&
                          copy.maxInstruments >= 1 && copy.maxInstruments <= 65536 && copy.ringBytes >= 4096 &&
                          (copy.ringBytes & (copy.ringBytes - 1)) == 0 && copy.counterCount <= kMaxCounters &&
                          copy.directoryOffset == g.directoryOffset() && copy.booksOffset == g.booksOffset() &&
                          copy.ringOffset == g.ringOffset() && copy.countersOffset == g.countersOffset() &&
                          copy.bookBytes == bookBytes(copy.depth) && g.totalBytes() <= copy.totalBytes &&
                          g.totalBytes() <= uint64_t(st.st_size);
  if (!consistent) reject(Kind::NotARegion, "its header does not describe a valid layout");
  // Histograms (1.3) follow the counters; an older region has none.
  const Geometry withHistograms{copy.maxInstruments, copy.depth, copy.ringBytes, copy.counterCount,
                                copy.histogramCount};
  if (copy.histogramCount != 0) {
    bool shaped = copy.histogramCount <= kMaxHistograms && copy.histogramBytes == sizeof(HistogramSlot) &&
                  copy.histogramsOffset == withHistograms.histogramsOffset() &&
                  withHistograms.totalBytes() <= copy.totalBytes;
    if (shaped) {  // the offset is inside the mapping: only now may a pointer be made from it
      const auto* slots =
          reinterpret_cast<const HistogramSlot*>(static_cast<const uint8_t*>(p) + copy.histogramsOffset);
      for (uint32_t i = 0; shaped && i < copy.histogramCount; ++i)
        shaped = slots[i].bucketCount == kHistogramBuckets && slots[i].subBucketBits == kHistogramSubBits;
    }
    if (!shaped) reject(Kind::NotARegion, "its header does not describe valid histograms");
  }
  // The tap (1.4) follows the histograms; an older region, or one made with
  // the tap off, has none.
  const uint64_t tapBytes = (version & 0xFFFF) >= 4 ? copy.tapBytes : 0;
  const Geometry withTap{copy.maxInstruments, copy.depth,          copy.ringBytes,
                         copy.counterCount,   copy.histogramCount, tapBytes};
  if (tapBytes != 0 && !(tapBytes >= kMinTapBytes && tapBytes <= kMaxTapBytes && std::has_single_bit(tapBytes) &&
                         copy.tapOffset == withTap.tapOffset() && withTap.totalBytes() <= copy.totalBytes &&
                         withTap.totalBytes() <= uint64_t(st.st_size)))
    reject(Kind::NotARegion, "its header does not describe a valid capture tap");

  // Where reading starts, found before anything is committed: a ring that
  // lies is refused, and a re-attach keeps what it had.
  Cursor start;
  if (!startCursor(h, static_cast<const uint8_t*>(p) + g.ringOffset(), copy.ringBytes - 1, start))
    reject(Kind::NotARegion, "its ring holds no record where it says the newest one is");

  if (!first) unmap();
  fd_ = fd;
  inode_ = st.st_ino;
  base_ = static_cast<const uint8_t*>(p);
  bytes_ = size_t(st.st_size);
  header_ = h;
  geometry_ = Layout{copy.maxInstruments,
                     copy.depth,
                     copy.counterCount,
                     copy.histogramCount,
                     g.directoryOffset(),
                     g.booksOffset(),
                     copy.bookBytes,
                     g.countersOffset(),
                     withHistograms.histogramsOffset(),
                     withTap.tapOffset(),
                     tapBytes};
  ring_ = base_ + g.ringOffset();
  ringMask_ = copy.ringBytes - 1;
  cursor_ = start.cursor;
  expected_ = start.expected;
  knowExpected_ = start.knowExpected;
  nextRefreshNs_ = monotonicCoarseNs() + options_.refreshEveryNs;
}

bool Consumer::startCursor(const RegionHeader* h, const uint8_t* ring, uint64_t mask, Cursor& out) const noexcept {
  const uint64_t capacity = mask + 1;
  if (options_.start == StartAt::Oldest) {
    // A record never straddles a multiple of the capacity, so the start of
    // the current lap is always the start of a record. What came before it
    // is not counted as lost: the reader asked for what is still there.
    out = Cursor{h->ringTail.load(std::memory_order_acquire) / capacity * capacity, 0, false};
    return true;
  }
  // Live: just after the newest whole record, whose index tells what comes
  // next, so that even a lap before the first poll is counted. A writer
  // finishes a record in nanoseconds: after this many tries, the ring lies.
  for (uint32_t attempt = 0; attempt < (1u << 20); ++attempt) {
    if (h->ringTail.load(std::memory_order_acquire) == 0) {
      out = Cursor{0, 0, true};
      return true;
    }
    const uint64_t latest = h->ringLatest.load(std::memory_order_acquire);
    if ((latest & 7) != 0 || capacity - (latest & mask) < sizeof(RingFrame)) return false;  // not a frame's place
    RingFrame frame;
    loadWords(&frame, ring + (latest & mask), sizeof frame);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (latest + capacity >= h->ringTailIntent.load(std::memory_order_relaxed) && frame.type == FrameType::Record &&
        frame.length >= sizeof(RingFrame) && frame.length % 8 == 0 && frame.length <= capacity - (latest & mask)) {
      out = Cursor{latest + frame.length, frame.index + 1, true};
      return true;
    }
    cpuRelax();
  }
  return false;
}

bool Consumer::refresh() {
  nextRefreshNs_ = monotonicCoarseNs() + options_.refreshEveryNs;
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0 || st.st_ino == inode_) return false;
  try {
    map(false);
    return true;
  } catch (const AttachError&) {
    return false;  // not ready yet (or not ours): keep the old mapping, try again later
  }
}

WriterStatus Consumer::writerStatus() const noexcept {
  if (header_->writerState.load(std::memory_order_acquire) != static_cast<uint32_t>(WriterState::Running))
    return WriterStatus::Stopped;
  const uint64_t beat = header_->heartbeatNs.load(std::memory_order_relaxed);
  const uint64_t now = realtimeNs();
  return now > beat && now - beat > options_.staleAfterNs ? WriterStatus::Stale : WriterStatus::Running;
}

bool Consumer::instrument(uint16_t locate, InstrumentInfo& out) const noexcept {
  if (locate >= geometry_.maxInstruments) return false;
  const auto& e = reinterpret_cast<const DirectoryEntry*>(base_ + geometry_.directoryOffset)[locate];
  InstrumentFields f;
  // An entry changes once per directory message: a few tries, so that a
  // region whose locks all look held costs little to walk.
  if (!seqlockRead(e.seq, &f, &e.fields, sizeof f, 256)) return false;
  out.locate = locate;
  size_t n = 0;
  while (n < 8 && f.symbol[n] != ' ' && f.symbol[n] != '\0') {
    out.symbol[n] = f.symbol[n];
    ++n;
  }
  out.symbol[n] = '\0';
  out.tradingState = f.tradingState;
  return true;
}

std::optional<uint16_t> Consumer::find(std::string_view symbol) const noexcept {
  InstrumentInfo info;
  for (uint32_t locate = 1; locate < geometry_.maxInstruments; ++locate)
    if (instrument(static_cast<uint16_t>(locate), info) && symbol == info.symbol) return static_cast<uint16_t>(locate);
  return std::nullopt;
}

std::vector<InstrumentInfo> Consumer::instruments() const {
  std::vector<InstrumentInfo> all;
  InstrumentInfo info;
  for (uint32_t locate = 1; locate < geometry_.maxInstruments; ++locate)
    if (instrument(static_cast<uint16_t>(locate), info) && info.symbol[0] != '\0') all.push_back(info);
  return all;
}

CopyStatus Consumer::copyBook(uint16_t locate, BookSnapshot& out) const noexcept {
  if (locate >= geometry_.maxInstruments) return CopyStatus::NoSuchInstrument;
  const uint8_t* at = base_ + geometry_.booksOffset + size_t{locate} * geometry_.bookBytes;
  const auto* book = reinterpret_cast<const BookHeader*>(at);
  const auto* levels = reinterpret_cast<const Level*>(at + sizeof(BookHeader));
  const uint32_t depth = geometry_.depth;
  for (uint32_t attempt = 0; attempt < (1u << 20); ++attempt) {
    const uint64_t before = book->seq.load(std::memory_order_acquire);
    if (before & 1) {
      cpuRelax();
      continue;
    }
    loadWords(&out.fields, &book->fields, sizeof out.fields);
    // Counts read inside the window may be torn; clamp so the copy stays in bounds.
    const uint32_t bids = std::min<uint32_t>(out.fields.bidLevels, depth);
    const uint32_t asks = std::min<uint32_t>(out.fields.askLevels, depth);
    loadWords(out.bids, levels, bids * sizeof(Level));
    loadWords(out.asks, levels + depth, asks * sizeof(Level));
    std::atomic_thread_fence(std::memory_order_acquire);
    if (book->seq.load(std::memory_order_relaxed) == before) {
      out.locate = locate;
      return CopyStatus::Ok;
    }
  }
  return CopyStatus::WriterStuck;
}

Consumer::Next Consumer::next(uint64_t& index) {
  const uint64_t tail = header_->ringTail.load(std::memory_order_acquire);
  if (cursor_ >= tail) return Next::Empty;
  const uint64_t capacity = ringMask_ + 1;
  const uint64_t offset = cursor_ & ringMask_;
  const uint64_t room = capacity - offset;
  if (room < sizeof(RingFrame)) {  // an unmarked end of lap
    cursor_ += room;
    return Next::Padding;
  }
  loadWords(frame_, ring_ + offset, sizeof(RingFrame));
  RingFrame frame;
  std::memcpy(&frame, frame_, sizeof frame);
  const bool plausible = frame.length >= sizeof(RingFrame) && frame.length % 8 == 0 && frame.length <= room &&
                         (frame.type == FrameType::Padding || frame.length <= kMaxFrameBytes);
  if (plausible && frame.type == FrameType::Record)
    loadWords(frame_ + sizeof(RingFrame), ring_ + offset + sizeof(RingFrame), frame.length - sizeof(RingFrame));
  std::atomic_thread_fence(std::memory_order_acquire);
  const uint64_t intent = header_->ringTailIntent.load(std::memory_order_relaxed);
  if (cursor_ + capacity < intent || !plausible) {
    // Overwritten while (or before) we copied: go to the newest whole record.
    cursor_ = header_->ringLatest.load(std::memory_order_acquire);
    return Next::Lapped;
  }
  cursor_ += frame.length;
  if (frame.type == FrameType::Padding) return Next::Padding;
  index = frame.index;
  return Next::Record;
}

std::string_view Consumer::counterName(uint32_t index) const noexcept {
  if (index >= geometry_.counterCount) return {};
  const auto* slot = reinterpret_cast<const CounterSlot*>(base_ + geometry_.countersOffset) + index;
  return std::string_view(slot->name, strnlen(slot->name, sizeof slot->name));
}

uint64_t Consumer::counter(uint32_t index) const noexcept {
  if (index >= geometry_.counterCount) return 0;
  const auto* slot = reinterpret_cast<const CounterSlot*>(base_ + geometry_.countersOffset) + index;
  return slot->value.load(std::memory_order_relaxed);
}

std::optional<uint32_t> Consumer::findCounter(std::string_view name) const noexcept {
  for (uint32_t i = 0; i < geometry_.counterCount; ++i)
    if (counterName(i) == name) return i;
  return std::nullopt;
}

std::string_view Consumer::histogramName(uint32_t index) const noexcept {
  if (index >= geometry_.histogramCount) return {};
  const auto* slot = reinterpret_cast<const HistogramSlot*>(base_ + geometry_.histogramsOffset) + index;
  return std::string_view(slot->name, strnlen(slot->name, sizeof slot->name));
}

CopyStatus Consumer::copyHistogram(uint32_t index, HistogramSnapshot& out) const noexcept {
  if (index >= geometry_.histogramCount) return CopyStatus::NoSuchInstrument;
  const auto* slot = reinterpret_cast<const HistogramSlot*>(base_ + geometry_.histogramsOffset) + index;
  static_assert(offsetof(HistogramSnapshot, buckets) == sizeof(HistogramFields));
  static_assert(offsetof(HistogramSlot, buckets) - offsetof(HistogramSlot, fields) == sizeof(HistogramFields));
  return seqlockRead(slot->seq, &out, &slot->fields, sizeof(HistogramFields) + sizeof out.buckets)
             ? CopyStatus::Ok
             : CopyStatus::WriterStuck;
}

}  // namespace fh::shm
