#include "capture/capture.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "util/bytes.h"

namespace fh::capture {

namespace {

constexpr uint32_t kPcapMicro = 0xA1B2C3D4;
constexpr uint32_t kPcapNano = 0xA1B23C4D;
constexpr uint32_t kPcapNgSection = 0x0A0D0D0A;
constexpr uint32_t kPcapNgByteOrder = 0x1A2B3C4D;

uint32_t loadLe32(const uint8_t* p) noexcept {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// Reads integers in the byte order the capture file declared.
struct Order {
  bool swapped;
  uint16_t u16(const uint8_t* p) const noexcept {
    uint16_t v;
    std::memcpy(&v, p, sizeof v);
    return swapped ? __builtin_bswap16(v) : v;
  }
  uint32_t u32(const uint8_t* p) const noexcept {
    const uint32_t v = loadLe32(p);
    return swapped ? __builtin_bswap32(v) : v;
  }
};

std::runtime_error systemError(const std::string& what, const std::string& path) {
  return std::runtime_error(what + " " + path + ": " + std::strerror(errno));
}

FrameResult readPcap(std::span<const uint8_t> file, const std::function<void(const Frame&)>& onFrame) {
  FrameResult r;
  constexpr size_t kFileHeader = 24, kRecordHeader = 16;
  if (file.size() < kFileHeader) {
    r.error = "pcap file header is truncated";
    return r;
  }
  const uint32_t magic = loadLe32(file.data());
  const bool swapped = magic == __builtin_bswap32(kPcapMicro) || magic == __builtin_bswap32(kPcapNano);
  const Order order{swapped};
  const bool nano = order.u32(file.data()) == kPcapNano;
  const uint32_t linkType = order.u32(file.data() + 20) & 0x0FFFFFFF;

  size_t offset = kFileHeader;
  while (offset < file.size()) {
    const uint8_t* h = file.data() + offset;
    if (file.size() - offset < kRecordHeader || file.size() - offset - kRecordHeader < order.u32(h + 8)) {
      r.truncated = true;
      r.truncatedAt = offset;
      return r;
    }
    const uint64_t seconds = order.u32(h), fraction = order.u32(h + 4);
    const uint32_t captured = order.u32(h + 8);
    Frame f{seconds * 1'000'000'000 + fraction * (nano ? 1 : 1000), linkType,
            file.subspan(offset + kRecordHeader, captured)};
    ++r.frames;
    onFrame(f);
    offset += kRecordHeader + captured;
  }
  return r;
}

struct NgInterface {
  uint32_t linkType;
  uint64_t ticksPerSecond;
};

// if_tsresol: a power of ten, or of two when the high bit is set.
uint64_t ticksPerSecond(uint8_t tsresol) noexcept {
  const unsigned exponent = tsresol & 0x7F;
  if (tsresol & 0x80) return exponent < 64 ? uint64_t{1} << exponent : 0;
  uint64_t v = 1;
  for (unsigned i = 0; i < exponent && i < 19; ++i) v *= 10;
  return v;
}

uint64_t toNanoseconds(uint64_t ticks, uint64_t perSecond) noexcept {
  if (perSecond == 0) return 0;
  if (perSecond >= 1'000'000'000) return ticks / (perSecond / 1'000'000'000);
  return ticks / perSecond * 1'000'000'000 + ticks % perSecond * 1'000'000'000 / perSecond;
}

FrameResult readPcapNg(std::span<const uint8_t> file, const std::function<void(const Frame&)>& onFrame) {
  FrameResult r;
  std::vector<NgInterface> interfaces;
  Order order{false};
  size_t offset = 0;
  while (offset < file.size()) {
    const uint8_t* b = file.data() + offset;
    const size_t left = file.size() - offset;
    if (left < 12) {
      r.truncated = true;
      r.truncatedAt = offset;
      return r;
    }
    if (loadLe32(b) == kPcapNgSection) {
      const uint32_t byteOrder = loadLe32(b + 8);
      if (byteOrder != kPcapNgByteOrder && byteOrder != __builtin_bswap32(kPcapNgByteOrder)) {
        r.error = "pcapng section header has a bad byte-order magic at offset " + std::to_string(offset);
        return r;
      }
      order.swapped = byteOrder != kPcapNgByteOrder;
      interfaces.clear();
    }
    const uint32_t type = order.u32(b);
    const uint32_t length = order.u32(b + 4);
    if (length < 12 || length % 4 != 0) {
      r.error = "pcapng block at offset " + std::to_string(offset) + " has a bad length " + std::to_string(length);
      return r;
    }
    if (length > left) {
      r.truncated = true;
      r.truncatedAt = offset;
      return r;
    }
    const uint8_t* body = b + 8;
    const size_t bodyLength = length - 12;
    if (type == 1 && bodyLength >= 8) {  // Interface Description Block
      NgInterface itf{order.u16(body), 1'000'000};
      size_t o = 8;
      while (o + 4 <= bodyLength) {
        const uint16_t code = order.u16(body + o), optLength = order.u16(body + o + 2);
        if (code == 0 || o + 4 + optLength > bodyLength) break;
        if (code == 9 && optLength >= 1) itf.ticksPerSecond = ticksPerSecond(body[o + 4]);
        o += 4 + ((optLength + 3u) & ~3u);
      }
      interfaces.push_back(itf);
    } else if (type == 6 && bodyLength >= 20) {  // Enhanced Packet Block
      const uint32_t id = order.u32(body);
      const uint64_t ticks = (uint64_t{order.u32(body + 4)} << 32) | order.u32(body + 8);
      const uint32_t captured = order.u32(body + 12);
      if (id >= interfaces.size() || captured > bodyLength - 20) {
        r.error = "pcapng packet block at offset " + std::to_string(offset) +
                  (id >= interfaces.size() ? " names an undeclared interface" : " overruns its block");
        return r;
      }
      ++r.frames;
      onFrame(
          Frame{toNanoseconds(ticks, interfaces[id].ticksPerSecond), interfaces[id].linkType, {body + 20, captured}});
    } else if (type == 3 && bodyLength >= 4) {  // Simple Packet Block
      if (interfaces.empty()) {
        r.error = "pcapng simple packet block at offset " + std::to_string(offset) + " comes before any interface";
        return r;
      }
      const uint32_t captured = std::min<uint32_t>(order.u32(body), static_cast<uint32_t>(bodyLength - 4));
      ++r.frames;
      onFrame(Frame{0, interfaces[0].linkType, {body + 4, captured}});
    }
    offset += length;
  }
  return r;
}

}  // namespace

const char* formatName(Format f) noexcept {
  switch (f) {
    case Format::BinaryFile:
      return "BinaryFILE";
    case Format::Pcap:
      return "pcap";
    case Format::PcapNg:
      return "pcapng";
  }
  return "?";
}

MappedFile::MappedFile(const std::string& path) : path_(path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw systemError("cannot open", path);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const auto e = systemError("cannot stat", path);
    ::close(fd);
    throw e;
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw std::runtime_error("not a regular file: " + path);
  }
  size_ = static_cast<size_t>(st.st_size);
  if (size_ > 0) {
    void* m = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    if (m == MAP_FAILED) {
      const auto e = systemError("cannot map", path);
      ::close(fd);
      throw e;
    }
    data_ = static_cast<const uint8_t*>(m);
  }
  ::close(fd);
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(const_cast<uint8_t*>(data_), size_);
}

Format detectFormat(std::span<const uint8_t> bytes) noexcept {
  if (bytes.size() < 4) return Format::BinaryFile;
  const uint32_t m = loadLe32(bytes.data());
  if (m == kPcapMicro || m == kPcapNano || m == __builtin_bswap32(kPcapMicro) || m == __builtin_bswap32(kPcapNano))
    return Format::Pcap;
  if (m == kPcapNgSection) return Format::PcapNg;
  return Format::BinaryFile;
}

FrameResult forEachFrame(std::span<const uint8_t> file, Format format,
                         const std::function<void(const Frame&)>& onFrame) {
  switch (format) {
    case Format::Pcap:
      return readPcap(file, onFrame);
    case Format::PcapNg:
      return readPcapNg(file, onFrame);
    case Format::BinaryFile:
      break;
  }
  FrameResult r;
  r.error = "a BinaryFILE holds no packets";
  return r;
}

SkipReason parseUdp(const Frame& frame, UdpDatagram& out) noexcept {
  const uint8_t* p = frame.data.data();
  size_t left = frame.data.size();
  uint16_t etherType = 0;
  switch (static_cast<LinkType>(frame.linkType)) {
    case LinkType::Ethernet:
      if (left < 14) return SkipReason::Truncated;
      etherType = loadBe16(p + 12);
      p += 14, left -= 14;
      while (etherType == 0x8100 || etherType == 0x88A8 || etherType == 0x9100) {
        if (left < 4) return SkipReason::Truncated;
        etherType = loadBe16(p + 2);
        p += 4, left -= 4;
      }
      break;
    case LinkType::LinuxSll:
      if (left < 16) return SkipReason::Truncated;
      etherType = loadBe16(p + 14);
      p += 16, left -= 16;
      break;
    case LinkType::LinuxSll2:
      if (left < 20) return SkipReason::Truncated;
      etherType = loadBe16(p);
      p += 20, left -= 20;
      break;
    case LinkType::RawIp:
      if (left < 1) return SkipReason::Truncated;
      etherType = (p[0] >> 4) == 4 ? 0x0800 : 0;
      break;
    default:
      return SkipReason::UnknownLink;
  }
  if (etherType != 0x0800) return SkipReason::NotIpv4;
  if (left < 20) return SkipReason::Truncated;
  const size_t headerLength = size_t{p[0] & 0x0Fu} * 4;
  const uint16_t totalLength = loadBe16(p + 2);
  if ((p[0] >> 4) != 4 || headerLength < 20 || totalLength < headerLength) return SkipReason::NotIpv4;
  if (totalLength > left) return SkipReason::Truncated;
  if ((loadBe16(p + 6) & 0x3FFF) != 0) return SkipReason::Fragment;  // MF or an offset
  if (p[9] != 17) return SkipReason::NotUdp;
  out.srcAddr = loadBe32(p + 12);
  out.dstAddr = loadBe32(p + 16);
  out.ipHeader = {p, headerLength};
  p += headerLength;
  left = totalLength - headerLength;
  if (left < 8) return SkipReason::Truncated;
  const uint16_t udpLength = loadBe16(p + 4);
  if (udpLength < 8 || udpLength > left) return SkipReason::Truncated;
  out.srcPort = loadBe16(p);
  out.dstPort = loadBe16(p + 2);
  out.payload = {p + 8, size_t{udpLength} - 8};
  return SkipReason::None;
}

}  // namespace fh::capture
