#include "capture/pcapng_writer.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace fh::capture {

namespace {

constexpr uint32_t kSectionHeader = 0x0A0D0D0A, kInterfaceDescription = 1, kInterfaceStatistics = 5,
                   kEnhancedPacket = 6;
constexpr uint16_t kEndOfOptions = 0, kComment = 1;

void put16(std::vector<uint8_t>& b, uint16_t v) { b.insert(b.end(), {uint8_t(v), uint8_t(v >> 8)}); }
void put32(std::vector<uint8_t>& b, uint32_t v) {
  b.insert(b.end(), {uint8_t(v), uint8_t(v >> 8), uint8_t(v >> 16), uint8_t(v >> 24)});
}
void put64(std::vector<uint8_t>& b, uint64_t v) {
  put32(b, uint32_t(v));
  put32(b, uint32_t(v >> 32));
}
void pad4(std::vector<uint8_t>& b) { b.resize((b.size() + 3) / 4 * 4, 0); }
void option(std::vector<uint8_t>& b, uint16_t code, const void* value, size_t bytes) {
  put16(b, code);
  put16(b, static_cast<uint16_t>(bytes));
  const auto* v = static_cast<const uint8_t*>(value);
  b.insert(b.end(), v, v + bytes);
  pad4(b);
}
void option(std::vector<uint8_t>& b, uint16_t code, std::string_view text) {
  if (!text.empty()) option(b, code, text.data(), std::min<size_t>(text.size(), 65000));
}
// A timestamp in the units of if_tsresol (ns): high word, then low word.
void putTime(std::vector<uint8_t>& b, uint64_t ns) {
  put32(b, uint32_t(ns >> 32));
  put32(b, uint32_t(ns));
}

uint32_t sum16(const uint8_t* p, size_t n, uint32_t sum = 0) {
  for (size_t i = 0; i + 1 < n; i += 2) sum += uint32_t{p[i]} << 8 | p[i + 1];
  if (n % 2 != 0) sum += uint32_t{p[n - 1]} << 8;
  return sum;
}
uint16_t fold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}
void be16(uint8_t* p, uint32_t v) {
  p[0] = uint8_t(v >> 8);
  p[1] = uint8_t(v);
}
void be32(uint8_t* p, uint32_t v) {
  be16(p, v >> 16);
  be16(p + 2, v);
}

// An IPv4 header of `total` bytes (header included) at `p`.
void ipv4(uint8_t* p, uint32_t src, uint32_t dst, uint8_t protocol, uint16_t id, size_t total) {
  std::memset(p, 0, 20);
  p[0] = 0x45;  // version 4, 5 words
  be16(p + 2, static_cast<uint32_t>(total));
  be16(p + 4, id);
  p[6] = 0x40;  // don't fragment
  p[8] = 64;    // TTL
  p[9] = protocol;
  be32(p + 12, src);
  be32(p + 16, dst);
  be16(p + 10, fold(sum16(p, 20)));
}

}  // namespace

PcapNgWriter::PcapNgWriter(const std::string& path, std::string_view application, std::string_view comment)
    : path_(path) {
  if (path == "-") {
    file_ = stdout;
  } else {
    file_ = std::fopen(path.c_str(), "wb");
    if (file_ == nullptr) throw std::runtime_error(path + ": cannot create: " + std::strerror(errno));
    ownsFile_ = true;
  }
  std::setvbuf(file_, nullptr, _IOFBF, 1 << 20);
  std::vector<uint8_t> b;
  put32(b, 0x1A2B3C4D);  // byte-order magic
  put16(b, 1);
  put16(b, 0);
  put64(b, ~uint64_t{0});  // section length: not given
  option(b, kComment, comment);
  option(b, 4, application);  // shb_userappl
  option(b, kEndOfOptions, nullptr, 0);
  block(kSectionHeader, b);
}

PcapNgWriter::~PcapNgWriter() {
  if (ownsFile_ && file_ != nullptr) std::fclose(file_);
}

void PcapNgWriter::write(const void* data, size_t bytes) {
  if (!failed_ && std::fwrite(data, 1, bytes, file_) != bytes) {
    failed_ = true;
    error_ = errno;
  }
}

void PcapNgWriter::block(uint32_t type, const std::vector<uint8_t>& body) {
  const uint32_t total = static_cast<uint32_t>(12 + body.size());
  uint8_t head[8], tail[4];
  std::memcpy(head, &type, 4);  // little-endian host, as the magic says
  std::memcpy(head + 4, &total, 4);
  std::memcpy(tail, &total, 4);
  write(head, sizeof head);
  write(body.data(), body.size());
  write(tail, sizeof tail);
}

uint32_t PcapNgWriter::addInterface(uint16_t linkType, std::string_view name, std::string_view description) {
  std::vector<uint8_t> b;
  put16(b, linkType);
  put16(b, 0);
  put32(b, 0);                // snap length: none
  option(b, 2, name);         // if_name
  option(b, 3, description);  // if_description
  const uint8_t nanoseconds = 9;
  option(b, 9, &nanoseconds, 1);  // if_tsresol: 10^-9
  option(b, kEndOfOptions, nullptr, 0);
  block(kInterfaceDescription, b);
  return interfaces_++;
}

void PcapNgWriter::packet(uint32_t interface, uint64_t timestampNs, std::span<const uint8_t> data) {
  body_.clear();
  put32(body_, interface);
  putTime(body_, timestampNs);
  put32(body_, static_cast<uint32_t>(data.size()));
  put32(body_, static_cast<uint32_t>(data.size()));
  body_.insert(body_.end(), data.begin(), data.end());
  pad4(body_);
  block(kEnhancedPacket, body_);
}

void PcapNgWriter::statistics(uint32_t interface, uint64_t startNs, uint64_t endNs, uint64_t received,
                              std::optional<uint64_t> dropped, std::string_view comment) {
  std::vector<uint8_t> b, t;
  put32(b, interface);
  putTime(b, endNs);
  option(b, kComment, comment);
  putTime(t, startNs);
  option(b, 2, t.data(), t.size());  // isb_starttime
  t.clear();
  putTime(t, endNs);
  option(b, 3, t.data(), t.size());         // isb_endtime
  option(b, 4, &received, 8);               // isb_ifrecv
  if (dropped) option(b, 5, &*dropped, 8);  // isb_ifdrop
  option(b, kEndOfOptions, nullptr, 0);
  block(kInterfaceStatistics, b);
}

void PcapNgWriter::finish() {
  const auto check = [&](bool ok) {
    if (!ok && !failed_) {
      failed_ = true;
      error_ = errno;
    }
  };
  check(std::fflush(file_) == 0);
  if (ownsFile_) {
    check(::fsync(fileno(file_)) == 0 || errno == EINVAL);  // a FIFO or a character device cannot sync
    check(std::fclose(file_) == 0);
    file_ = nullptr;
  }
  if (failed_) throw std::runtime_error(path_ + ": cannot write: " + std::strerror(error_));
}

void ipv4Udp(std::vector<uint8_t>& out, uint32_t src, uint32_t dst, uint16_t srcPort, uint16_t dstPort, uint16_t id,
             std::span<const uint8_t> payload) {
  out.resize(28 + payload.size());
  uint8_t* p = out.data();
  ipv4(p, src, dst, 17, id, out.size());
  be16(p + 20, srcPort);
  be16(p + 22, dstPort);
  be16(p + 24, static_cast<uint32_t>(8 + payload.size()));
  be16(p + 26, 0);  // no checksum (allowed over IPv4)
  if (!payload.empty()) std::memcpy(p + 28, payload.data(), payload.size());
}

void ipv4Tcp(std::vector<uint8_t>& out, uint32_t src, uint32_t dst, uint16_t srcPort, uint16_t dstPort, uint16_t id,
             uint32_t seq, std::span<const uint8_t> payload) {
  out.resize(40 + payload.size());
  uint8_t* p = out.data();
  ipv4(p, src, dst, 6, id, out.size());
  uint8_t* t = p + 20;
  std::memset(t, 0, 20);
  be16(t, srcPort);
  be16(t + 2, dstPort);
  be32(t + 4, seq);
  be32(t + 8, 1);       // acknowledgment: the other way is not captured
  t[12] = 5 << 4;       // 5 words, no options
  t[13] = 0x18;         // PSH | ACK
  be16(t + 14, 65535);  // window
  if (!payload.empty()) std::memcpy(t + 20, payload.data(), payload.size());
  // Checksum over the pseudo-header (addresses, protocol, length) and the segment.
  const size_t segment = 20 + payload.size();
  uint32_t sum = sum16(p + 12, 8);
  sum += 6 + static_cast<uint32_t>(segment);
  be16(t + 16, fold(sum16(t, segment, sum)));
}

}  // namespace fh::capture
