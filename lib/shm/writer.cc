#include "shm/writer.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <stdexcept>

#include "shm/clock.h"
#include "shm/words.h"

namespace fh::shm {

namespace {

std::string errnoText(const std::string& what) { return what + ": " + std::strerror(errno); }

bool validName(std::string_view name) {
  if (name.empty() || name.size() > 200 || name[0] == '.') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
  });
}

// The pid in a region's header, read without blocking or following links
// (for the message when the name is taken); 0 if it cannot be read.
pid_t writerPidOf(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) return 0;
  struct stat st {};
  int32_t pid = 0;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
      ::pread(fd, &pid, sizeof pid, offsetof(RegionHeader, writerPid)) != static_cast<ssize_t>(sizeof pid))
    pid = 0;
  ::close(fd);
  return pid;
}

std::string ownerName(uid_t uid) {
  const passwd* p = ::getpwuid(uid);
  return (p != nullptr ? std::string(p->pw_name) + " " : std::string()) + "(uid " + std::to_string(uid) + ")";
}

std::string fileKind(mode_t mode) {
  return S_ISFIFO(mode)                   ? "a FIFO"
         : S_ISLNK(mode)                  ? "a symbolic link"
         : S_ISDIR(mode)                  ? "a directory"
         : S_ISSOCK(mode)                 ? "a socket"
         : S_ISCHR(mode) || S_ISBLK(mode) ? "a device"
                                          : "not a regular file";
}

// Why the open file `fd` (at `path`) is not a lock file of this writer's
// (a regular file of its user's, with one name), with what to do; empty if
// it is one.
std::string notOwnFile(int fd, const std::string& path, const std::string& remedy) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return errnoText(path);
  if (!S_ISREG(st.st_mode)) return path + " is " + fileKind(st.st_mode) + ": " + remedy;
  if (st.st_nlink != 1) return path + " has other names (hard links): " + remedy;
  if (st.st_uid != ::geteuid())
    return path + " belongs to " + ownerName(st.st_uid) + ", not to this writer, " + ownerName(::geteuid()) + ": " +
           remedy;
  return {};
}

// The name's lock (see layout.h): DIR/.NAME.lock, a regular file of this
// user's, held with flock(LOCK_EX) for the writer's lifetime. The kernel lets
// go of it when the process ends in any way, so a dead writer never blocks a
// new one, and two writers started together cannot both hold it.
int lockOnce(const std::string& directory, const std::string& name, const std::string& path);

int lockName(const std::string& directory, const std::string& name, const std::string& path) {
  // The lock must be the file at the path when it is taken: one removed (and
  // made again by another writer) meanwhile is let go, and the new one taken.
  const std::string lock = directory + "/." + name + ".lock";
  for (int attempt = 0; attempt < 16; ++attempt) {
    const int fd = lockOnce(directory, name, path);
    struct stat held {
    }, now{};
    if (::fstat(fd, &held) == 0 && ::lstat(lock.c_str(), &now) == 0 && held.st_ino == now.st_ino &&
        held.st_dev == now.st_dev)
      return fd;
    ::close(fd);
  }
  throw std::runtime_error(lock + ": the lock file keeps being replaced: is something removing it?");
}

// A writer that died while making its region left DIR/.NAME.PID behind, its
// space reserved. Only this name's lock holder makes those, so with the lock
// held every one of them is a leftover (of this user's) and goes.
void removeLeftovers(const std::string& directory, const std::string& name) {
  DIR* d = ::opendir(directory.c_str());
  if (d == nullptr) return;
  const std::string prefix = "." + name + ".";
  while (const dirent* e = ::readdir(d)) {
    const std::string leaf = e->d_name;
    if (leaf.size() <= prefix.size() || leaf.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string rest = leaf.substr(prefix.size());
    if (rest.find_first_not_of("0123456789") != std::string::npos) continue;  // not .NAME.PID
    struct stat st {};
    const std::string path = directory + "/" + leaf;
    if (::lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == ::geteuid()) ::unlink(path.c_str());
  }
  ::closedir(d);
}

int lockOnce(const std::string& directory, const std::string& name, const std::string& path) {
  const std::string lock = directory + "/." + name + ".lock";
  const int fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
  if (fd < 0) {
    const int e = errno;
    struct stat st {};
    if (::lstat(lock.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
      throw std::runtime_error(lock + " is " + fileKind(st.st_mode) + ", not the lock of region " + name +
                               ": remove it, or choose another shm.name");
    throw std::runtime_error(lock + ": cannot open the region's lock: " + std::strerror(e) +
                             (e == EACCES ? " (another user made it: remove it, or choose another shm.name)" : ""));
  }
  const auto refuse = [&](const std::string& why) {
    ::close(fd);
    throw std::runtime_error(why);
  };
  if (const std::string why = notOwnFile(fd, lock, "remove it, or choose another shm.name"); !why.empty()) refuse(why);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int e = errno;
    // The owner writes its pid just after it takes the lock: a writer
    // refused in that moment waits for it, a little (an error path).
    pid_t pid = 0;
    for (int tries = 0; e == EWOULDBLOCK && pid <= 0 && tries < 100; ++tries) {
      if (tries > 0) ::usleep(1000);
      char text[16] = {};
      pid = ::pread(fd, text, sizeof text - 1, 0) > 0 ? std::atoi(text) : 0;
      if (pid <= 0) pid = writerPidOf(path);
    }
    refuse(e == EWOULDBLOCK ? path + " belongs to a running writer" +
                                  (pid > 0 ? " (pid " + std::to_string(pid) + ")" : std::string()) +
                                  "; choose another shm.name or stop it"
                            : lock + ": cannot lock: " + std::strerror(e));
  }
  // Ours: the pid in it names the owner to whoever is refused next.
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size()))
    refuse(errnoText(lock + ": cannot write the owner's pid"));
  return fd;
}

// What is at the region's path already may be replaced only if it is a
// region file of this user's: anything else is refused, named.
void checkReplaceable(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return;  // nothing there
  if (!S_ISREG(st.st_mode))
    throw std::runtime_error(path + " is " + fileKind(st.st_mode) +
                             ", not a region: remove it, or choose another "
                             "shm.name");
  if (st.st_uid != ::geteuid())
    throw std::runtime_error(path + " belongs to " + ownerName(st.st_uid) + ", not to this writer, " +
                             ownerName(::geteuid()) + ": remove it, or choose another shm.name");
}

// The tap's lock file (layout.h): DIR/.NAME.tap, this user's, with the
// region's mode and group, so that whoever may read the region may attach a
// capture. Made once and kept, like the name's lock.
int openTap(const RegionConfig& config, gid_t gid) {
  const std::string path = config.directory + "/." + config.name + ".tap";
  const int fd = ::open(path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
  if (fd < 0) throw std::runtime_error(errnoText(path + ": cannot open the capture tap's lock"));
  const auto refuse = [&](const std::string& why) {
    ::close(fd);
    throw std::runtime_error(why);
  };
  if (const std::string why = notOwnFile(fd, path, "remove it, or set shm.tap_mib = 0"); !why.empty()) refuse(why);
  if (::fchmod(fd, config.mode) != 0) refuse(errnoText("cannot set the mode of " + path));
  if (gid != gid_t(-1) && ::fchown(fd, uid_t(-1), gid) != 0)
    refuse(errnoText("shm.group: cannot give " + path + " to group " + config.group));
  return fd;
}

uint64_t newGeneration() {
  uint64_t g = 0;
  if (::getrandom(&g, sizeof g, 0) != static_cast<ssize_t>(sizeof g)) g = realtimeNs() ^ uint64_t(::getpid()) << 32;
  return g == 0 ? 1 : g;
}

}  // namespace

void validate(const RegionConfig& c) {
  if (!validName(c.name))
    throw std::invalid_argument("shm.name: '" + c.name +
                                "' must be 1-200 letters, digits, '.', '_' or '-', not starting with '.'");
  if (c.maxInstruments < 2 || c.maxInstruments > 65536)
    throw std::invalid_argument("book.max_instruments: " + std::to_string(c.maxInstruments) + " is not in 2..65536");
  if (c.depth < 1 || c.depth > kMaxDepth)
    throw std::invalid_argument("shm.depth: " + std::to_string(c.depth) + " is not in 1.." + std::to_string(kMaxDepth));
  if (c.ringBytes < (64u << 10) || c.ringBytes > (16ull << 30) || !std::has_single_bit(c.ringBytes))
    throw std::invalid_argument("shm.ring_bytes: " + std::to_string(c.ringBytes) +
                                " must be a power of two from 64 KiB to 16 GiB");
  if (c.counters.size() > kMaxCounters)
    throw std::invalid_argument("shm: " + std::to_string(c.counters.size()) + " counters, at most " +
                                std::to_string(kMaxCounters));
  for (const std::string& n : c.counters)
    if (n.empty() || n.size() >= sizeof(CounterSlot::name))
      throw std::invalid_argument("shm: counter name '" + n + "' must be 1-55 characters");
  if (c.histograms.size() > kMaxHistograms)
    throw std::invalid_argument("shm: " + std::to_string(c.histograms.size()) + " histograms, at most " +
                                std::to_string(kMaxHistograms));
  for (const std::string& n : c.histograms)
    if (n.empty() || n.size() >= sizeof(HistogramSlot::name))
      throw std::invalid_argument("shm: histogram name '" + n + "' must be 1-47 characters");
  if (c.tapBytes != 0 && (c.tapBytes < kMinTapBytes || c.tapBytes > kMaxTapBytes || !std::has_single_bit(c.tapBytes)))
    throw std::invalid_argument("shm.tap_mib: " + std::to_string(c.tapBytes >> 20) +
                                " MiB must be 0 (no capture tap) or a power of two from 1 to 1024");
  if ((c.mode & ~mode_t{0644}) != 0)
    throw std::invalid_argument(
        "shm.mode: only the owner may write the region (e.g. 0640): readers refuse one that "
        "others could write");
}

std::string regionPath(const RegionConfig& c) { return c.directory + "/" + c.name; }

void removeRegionFiles(const std::string& directory, const std::string& name) {
  for (const std::string& leaf : {name, "." + name + ".lock", "." + name + ".tap"})
    ::unlink((directory + "/" + leaf).c_str());
}

RegionWriter::RegionWriter(const RegionConfig& config)
    : path_(regionPath(config)),
      maxInstruments_(config.maxInstruments),
      depth_(config.depth),
      bookBytes_(bookBytes(config.depth)),
      ringMask_(config.ringBytes - 1) {
  validate(config);
  lockFd_ = lockName(config.directory, config.name, path_);
  try {
    removeLeftovers(config.directory, config.name);
    create(config);
  } catch (...) {
    if (tapFd_ >= 0) ::close(tapFd_);
    ::close(lockFd_);
    throw;
  }
}

void RegionWriter::create(const RegionConfig& config) {
  checkReplaceable(path_);

  gid_t gid = gid_t(-1);
  if (!config.group.empty()) {
    const group* g = ::getgrnam(config.group.c_str());
    if (g == nullptr) throw std::invalid_argument("shm.group: no group named '" + config.group + "'");
    gid = g->gr_gid;
  }

  if (config.tapBytes != 0) tapFd_ = openTap(config, gid);

  const Geometry geometry{config.maxInstruments,
                          config.depth,
                          config.ringBytes,
                          static_cast<uint32_t>(config.counters.size()),
                          static_cast<uint32_t>(config.histograms.size()),
                          config.tapBytes};
  bytes_ = geometry.totalBytes();
  const std::string temporary = config.directory + "/." + config.name + "." + std::to_string(::getpid());
  const int fd = ::open(temporary.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) throw std::runtime_error(errnoText("cannot create " + temporary));
  const auto fail = [&](const std::string& what) {
    const std::string message = errnoText(what);
    if (base_ != nullptr) ::munmap(base_, bytes_);
    ::close(fd);
    ::unlink(temporary.c_str());
    throw std::runtime_error(message);
  };
  // Every byte reserved before the mapping: a sparse file would die by SIGBUS
  // on the first store to a page the filesystem cannot back.
  if (const int e = ::posix_fallocate(fd, 0, static_cast<off_t>(bytes_)); e != 0) {
    errno = e;
    fail("cannot reserve " + std::to_string(bytes_) + " bytes (" + std::to_string((bytes_ + (1 << 20) - 1) >> 20) +
         " MiB) for the region in " + config.directory +
         (e == ENOSPC ? " (too little space there: make the region smaller, e.g. shm.ring_mib or book.max_instruments, "
                        "or the filesystem larger)"
                      : ""));
  }
  // Fault every page in now: the hot path must never take a page fault.
  void* p = ::mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
  if (p == MAP_FAILED) fail("cannot map " + temporary);
  base_ = static_cast<uint8_t*>(p);
  if (::fchmod(fd, config.mode) != 0) fail("cannot set the mode of " + temporary);
  if (gid != gid_t(-1) && ::fchown(fd, uid_t(-1), gid) != 0)
    fail("shm.group: cannot give " + temporary + " to group " + config.group);

  header_ = new (base_) RegionHeader{};
  header_->magic = kMagic;
  header_->headerBytes = sizeof(RegionHeader);
  header_->totalBytes = bytes_;
  header_->generation = newGeneration();
  header_->startNs = realtimeNs();
  header_->writerPid = ::getpid();
  header_->directoryOffset = geometry.directoryOffset();
  header_->maxInstruments = config.maxInstruments;
  header_->directoryEntryBytes = sizeof(DirectoryEntry);
  header_->booksOffset = geometry.booksOffset();
  header_->bookBytes = bookBytes_;
  header_->depth = config.depth;
  header_->ringOffset = geometry.ringOffset();
  header_->ringBytes = config.ringBytes;
  header_->countersOffset = geometry.countersOffset();
  header_->counterCount = geometry.counterCount;
  header_->counterBytes = sizeof(CounterSlot);
  header_->histogramsOffset = geometry.histogramsOffset();
  header_->histogramCount = geometry.histogramCount;
  header_->histogramBytes = sizeof(HistogramSlot);
  header_->tapOffset = geometry.tapOffset();
  header_->tapBytes = geometry.tapBytes;
  std::snprintf(header_->instance, sizeof header_->instance, "%s", config.name.c_str());
  header_->writerState.store(static_cast<uint32_t>(WriterState::Running));
  header_->heartbeatNs.store(header_->startNs);

  directory_ = reinterpret_cast<DirectoryEntry*>(base_ + header_->directoryOffset);
  books_ = base_ + header_->booksOffset;
  ring_ = base_ + header_->ringOffset;
  counters_ = reinterpret_cast<CounterSlot*>(base_ + header_->countersOffset);
  histograms_ = reinterpret_cast<HistogramSlot*>(base_ + header_->histogramsOffset);
  histogramCount_ = geometry.histogramCount;
  for (uint32_t locate = 0; locate < maxInstruments_; ++locate) {
    directory_[locate].fields.instrumentId = locate;
    directory_[locate].fields.tradingState = ' ';
    auto* book = reinterpret_cast<BookHeader*>(books_ + size_t{locate} * bookBytes_);
    book->fields.instrumentId = locate;
    book->fields.tradingState = ' ';
  }
  for (size_t i = 0; i < config.counters.size(); ++i)
    std::snprintf(counters_[i].name, sizeof counters_[i].name, "%s", config.counters[i].c_str());
  for (size_t i = 0; i < config.histograms.size(); ++i) {
    HistogramSlot* slot = new (&histograms_[i]) HistogramSlot{};
    std::snprintf(slot->name, sizeof slot->name, "%s", config.histograms[i].c_str());
    slot->bucketCount = kHistogramBuckets;
    slot->subBucketBits = kHistogramSubBits;
  }
  if (geometry.tapBytes != 0) {
    tap_ = new (base_ + geometry.tapOffset()) TapHeader{};
    std::copy(std::begin(config.tapEndpoints), std::end(config.tapEndpoints), tap_->lines);
    tapRing_ = base_ + geometry.tapRingOffset();
    tapMask_ = geometry.tapBytes - 1;
  }

  header_->layoutVersion.store(kLayoutVersion, std::memory_order_release);
  if (::rename(temporary.c_str(), path_.c_str()) != 0) fail("cannot move " + temporary + " to " + path_);
  ::close(fd);
}

RegionWriter::~RegionWriter() {
  if (tapFd_ >= 0) ::close(tapFd_);
  if (base_ != nullptr) {
    header_->writerState.store(static_cast<uint32_t>(WriterState::Stopped), std::memory_order_release);
    ::munmap(base_, bytes_);
  }
  ::close(lockFd_);  // the name is free again
}

void RegionWriter::publishHistogram(size_t index, Histogram& h) noexcept {
  if (index >= histogramCount_) return;
  HistogramSlot& slot = histograms_[index];
  const uint32_t from = h.touchedFrom(), to = h.touchedTo();
  if (from >= to && slot.fields.count == h.fields().count) return;  // nothing new (the slot has one writer)
  const uint64_t s = seqlockBegin(slot.seq);
  storeWords(&slot.fields, &h.fields(), sizeof slot.fields);
  if (from < to) storeWords(slot.buckets + from, h.buckets() + from, (to - from) * sizeof(uint64_t));
  seqlockEnd(slot.seq, s);
  h.markPublished();
}

void RegionWriter::setInstrument(uint16_t locate, const char (&symbol)[8], char tradingState) noexcept {
  if (locate >= maxInstruments_) return;
  DirectoryEntry& e = directory_[locate];
  InstrumentFields f{};
  std::memcpy(f.symbol, symbol, sizeof f.symbol);
  f.instrumentId = locate;
  f.tradingState = tradingState;
  const uint64_t s = seqlockBegin(e.seq);
  storeWords(&e.fields, &f, sizeof f);
  seqlockEnd(e.seq, s);
}

void RegionWriter::publishBook(uint16_t locate, const BookFields& fields, const Level* bids, uint32_t bidCount,
                               const Level* asks, uint32_t askCount, LevelRange bidChanged,
                               LevelRange askChanged) noexcept {
  BookFields f = fields;
  f.bidLevels = static_cast<uint16_t>(std::min(bidCount, depth_));
  f.askLevels = static_cast<uint16_t>(std::min(askCount, depth_));
  publishBook(locate, f, [&](int side, auto&& put) {
    const Level* from = side == 0 ? bids : asks;
    const LevelRange r = side == 0 ? bidChanged : askChanged;
    const uint32_t end = std::min<uint32_t>(r.to, side == 0 ? f.bidLevels : f.askLevels);
    for (uint32_t k = r.from; k < end; ++k) put(k, from[k]);
  });
}

void RegionWriter::tap(TapLine line, uint64_t recvNs, std::span<const uint8_t> payload) noexcept {
  const uint64_t capacity = tapMask_ + 1;
  if (payload.size() > kMaxTapPayload || sizeof(TapFrame) + payload.size() > capacity / 4) {
    tap_->refused.store(tap_->refused.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    return;
  }
  const auto frameBytes = static_cast<uint32_t>((sizeof(TapFrame) + payload.size() + 7) & ~size_t{7});
  uint64_t offset = tapTail_ & tapMask_;
  const uint64_t room = capacity - offset;
  const uint64_t padding = room < frameBytes ? room : 0;
  const uint64_t intent = tapTail_ + padding + frameBytes;
  tap_->tailIntent.store(intent, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  if (padding != 0) {
    if (padding >= sizeof(TapFrame)) {  // less than a frame header: readers skip it unmarked
      const TapFrame pad{static_cast<uint32_t>(padding), TapFrameType::Padding, 0, 0, tapIndex_, 0, 0, 0};
      storeWords(tapRing_ + offset, &pad, sizeof pad);
    }
    offset = 0;
  }
  const TapFrame head{frameBytes,
                      TapFrameType::Packet,
                      static_cast<uint8_t>(line),
                      0,
                      tapIndex_,
                      recvNs,
                      static_cast<uint32_t>(payload.size()),
                      0};
  storeWords(tapRing_ + offset, &head, sizeof head);
  storeBytes(tapRing_ + offset + sizeof head, payload.data(), payload.size());
  tap_->latest.store(tapTail_ + padding, std::memory_order_release);
  tap_->tail.store(intent, std::memory_order_release);
  tapTail_ = intent;
  tap_->packets.store(++tapIndex_, std::memory_order_relaxed);
}

bool RegionWriter::probeTap() noexcept {
  if (tap_ == nullptr) return false;
  // A capture's shared lock keeps this exclusive one from being taken.
  bool attached = false;
  if (::flock(tapFd_, LOCK_EX | LOCK_NB) == 0)
    ::flock(tapFd_, LOCK_UN);
  else
    attached = errno == EWOULDBLOCK;
  tap_->active.store(attached ? 1 : 0, std::memory_order_relaxed);
  return attached;
}

void RegionWriter::heartbeat() noexcept { header_->heartbeatNs.store(realtimeNs(), std::memory_order_relaxed); }

void RegionWriter::setSourceState(SourceState state) noexcept {
  header_->sourceState.store(static_cast<uint32_t>(state), std::memory_order_release);
}

}  // namespace fh::shm
