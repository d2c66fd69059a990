// libFuzzer target: a consumer attaching to and reading a region that lies.
// A small valid region is made once; each input is a list of patches (4-byte
// offset, 12 bytes) written over a copy of it, so the header, directory,
// books, ring and counters all get mutated. The consumer must attach or
// refuse, and then poll, copy books and read counters without crashing,
// reading outside the file, or looping without bound (libFuzzer's -timeout
// catches a hang).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "shm/consumer.h"
#include "shm/writer.h"

namespace {

struct Template {
  std::string dir;
  std::vector<uint8_t> bytes;
};

char gDir[64];  // for the exit handler

void removeDir() {
  fh::shm::removeRegionFiles(gDir, "r");
  ::rmdir(gDir);
}

Template& base() {
  static Template t = [] {
    Template b;
    char pattern[] = "/dev/shm/fh-fuzz-region.XXXXXX";
    if (::mkdtemp(pattern) == nullptr) std::abort();
    b.dir = pattern;
    std::snprintf(gDir, sizeof gDir, "%s", pattern);
    std::atexit(removeDir);  // libFuzzer ends a bounded run with exit()
    fh::shm::RegionConfig c;
    c.name = "r";
    c.directory = b.dir;
    c.maxInstruments = 8;
    c.depth = 2;
    c.ringBytes = 64 << 10;
    c.counters = {"a", "b"};
    {
      fh::shm::RegionWriter w(c);
      const char sym[8] = {'A', 'B', 'C', ' ', ' ', ' ', ' ', ' '};
      w.setInstrument(1, sym, 'T');
      fh::shm::Level level{100, 10, 1, 0};
      w.publishBook(1, fh::shm::BookFields{}, &level, 1, &level, 1);
      fh::record::MboMsg m{};
      for (int i = 0; i < 100; ++i) w.publish(&m, sizeof m);
    }
    const std::string path = b.dir + "/r";
    const int fd = ::open(path.c_str(), O_RDONLY);
    struct stat st {};
    ::fstat(fd, &st);
    b.bytes.resize(size_t(st.st_size));
    if (::pread(fd, b.bytes.data(), b.bytes.size(), 0) != static_cast<ssize_t>(b.bytes.size())) std::abort();
    ::close(fd);
    return b;
  }();
  return t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Template& t = base();
  std::vector<uint8_t> region = t.bytes;
  for (size_t at = 0; at + 16 <= size; at += 16) {
    uint32_t offset = 0;
    std::memcpy(&offset, data + at, 4);
    // Most patches land in the header and the first ring frames, where the lies matter most.
    const size_t target = (offset & 1) ? offset % 4096 : offset % region.size();
    for (size_t i = 0; i < 12 && target + i < region.size(); ++i) region[target + i] = data[at + 4 + i];
  }
  const std::string path = t.dir + "/r";
  const int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC);
  if (fd < 0 || ::write(fd, region.data(), region.size()) != static_cast<ssize_t>(region.size())) std::abort();
  ::close(fd);
  for (const auto start : {fh::shm::StartAt::Live, fh::shm::StartAt::Oldest}) {
    fh::shm::Consumer::Options o;
    o.directory = t.dir;
    o.start = start;
    o.refreshEveryNs = 0;
    try {
      fh::shm::Consumer c("r", o);
      uint64_t records = 0;
      for (int poll = 0; poll < 4; ++poll) {
        const fh::shm::PollResult r = c.poll([&](const fh::shm::Tick& tick) {
          if (tick.bytes > fh::shm::kMaxFrameBytes) std::abort();
          records += tick.header->length;  // read what the tick points at
        });
        if (r.invalid) break;
      }
      auto book = std::make_unique<fh::shm::BookSnapshot>();
      for (uint32_t locate = 0; locate < c.maxInstruments() && locate < 16; ++locate)
        (void)c.copyBook(static_cast<uint16_t>(locate), *book);
      (void)c.instruments();
      for (uint32_t i = 0; i < c.counterCount(); ++i) (void)c.counter(i), (void)c.counterName(i);
      (void)c.writerStatus();
      (void)records;
    } catch (const fh::shm::AttachError&) {
    }
  }
  return 0;
}
