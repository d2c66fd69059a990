// Read-only access to capture files: Nasdaq BinaryFILE (2-byte big-endian
// length + message), classic pcap (µs or ns, either byte order) and pcapng.
// A CaptureFile maps the whole file once; iteration hands out spans into that
// mapping, never copies. Frames are unwrapped down to IPv4/UDP (Ethernet with
// any number of VLAN tags, Linux cooked, raw IP). Control-plane objects: one
// thread at a time; they throw std::runtime_error naming the file on failure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>

namespace fh::capture {

enum class Format : uint8_t { BinaryFile, Pcap, PcapNg };

const char* formatName(Format f) noexcept;

class MappedFile {
 public:
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::span<const uint8_t> bytes() const noexcept { return {data_, size_}; }
  const std::string& path() const noexcept { return path_; }

 private:
  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

// Pcap and pcapng files are recognised by their magic numbers; anything else
// is read as a BinaryFILE.
Format detectFormat(std::span<const uint8_t> bytes) noexcept;

// --- BinaryFILE ------------------------------------------------------------

struct BinaryFileResult {
  uint64_t records = 0;
  bool truncated = false;    // the last record runs past the end of the file
  uint64_t truncatedAt = 0;  // its byte offset
};

// Calls onRecord(uint64_t position /* 1-based */, const uint8_t* msg, uint16_t length).
template <class OnRecord>
BinaryFileResult forEachRecord(std::span<const uint8_t> file, OnRecord&& onRecord) {
  BinaryFileResult r;
  const uint8_t* p = file.data();
  const uint8_t* const end = p + file.size();
  while (p != end) {
    if (end - p < 2 || static_cast<size_t>(end - p - 2) < (size_t{p[0]} << 8 | p[1])) {
      r.truncated = true;
      r.truncatedAt = static_cast<uint64_t>(p - file.data());
      return r;
    }
    const uint16_t length = static_cast<uint16_t>(p[0] << 8 | p[1]);
    onRecord(++r.records, p + 2, length);
    p += 2 + length;
  }
  return r;
}

// --- Packet captures -------------------------------------------------------

enum class LinkType : uint16_t { Ethernet = 1, RawIp = 101, LinuxSll = 113, LinuxSll2 = 276 };

struct Frame {
  uint64_t timestampNs;  // since the UNIX epoch
  uint32_t linkType;
  std::span<const uint8_t> data;  // the captured bytes
};

struct FrameResult {
  uint64_t frames = 0;
  bool truncated = false;  // a record or block runs past the end of the file
  uint64_t truncatedAt = 0;
  std::string error;  // a structural error that stops reading (bad block, bad header)
};

// Calls onFrame(const Frame&) for each packet record of a pcap or pcapng file.
FrameResult forEachFrame(std::span<const uint8_t> file, Format format,
                         const std::function<void(const Frame&)>& onFrame);

enum class SkipReason : uint8_t { None, NotIpv4, Fragment, NotUdp, Truncated, UnknownLink };

struct UdpDatagram {
  uint32_t srcAddr;  // host byte order
  uint32_t dstAddr;
  uint16_t srcPort;
  uint16_t dstPort;
  std::span<const uint8_t> payload;
  std::span<const uint8_t> ipHeader;  // options included
};

// The IPv4 header checksum holds (the one's-complement sum of the header is
// all ones). The kernel drops a frame whose header fails it; a source that
// bypasses the kernel must check it itself.
inline bool ipv4ChecksumOk(std::span<const uint8_t> header) noexcept {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < header.size(); i += 2) sum += uint32_t{header[i]} << 8 | header[i + 1];
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return sum == 0xFFFF;
}

// Unwraps a frame down to its UDP payload, or says why it cannot.
SkipReason parseUdp(const Frame& frame, UdpDatagram& out) noexcept;

}  // namespace fh::capture
