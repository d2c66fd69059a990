// Writing pcapng (draft-ietf-opsawg-pcapng): a Section Header Block, one
// Interface Description Block per interface (nanosecond timestamps), an
// Enhanced Packet Block per packet, and Interface Statistics Blocks at the
// end; little-endian. And the IPv4/UDP and IPv4/TCP headers a capture of
// payloads gives its packets. Control plane: one thread; throws
// std::runtime_error naming the file on failure.
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace fh::capture {

class PcapNgWriter {
 public:
  // "-": standard output. `comment` goes into the section header.
  PcapNgWriter(const std::string& path, std::string_view application, std::string_view comment);
  ~PcapNgWriter();  // closes without the checks of finish()
  PcapNgWriter(const PcapNgWriter&) = delete;
  PcapNgWriter& operator=(const PcapNgWriter&) = delete;

  // An interface of this link type (LinkType in capture.h), its name and
  // description; its index, counted from 0.
  uint32_t addInterface(uint16_t linkType, std::string_view name, std::string_view description);
  void packet(uint32_t interface, uint64_t timestampNs, std::span<const uint8_t> data);
  // What an interface saw over [startNs, endNs]: packets received, and
  // dropped where that is known, with a comment.
  void statistics(uint32_t interface, uint64_t startNs, uint64_t endNs, uint64_t received,
                  std::optional<uint64_t> dropped, std::string_view comment);
  // Flushes (and, for a file, fsyncs) and closes; throws on a write error.
  void finish();
  // A write failed (a full disk, a closed pipe): finish() will say so.
  bool failed() const noexcept { return failed_; }

 private:
  void write(const void* data, size_t bytes);
  void block(uint32_t type, const std::vector<uint8_t>& body);

  std::string path_;
  FILE* file_ = nullptr;
  bool ownsFile_ = false;
  bool failed_ = false;
  int error_ = 0;  // errno of the first failure
  uint32_t interfaces_ = 0;
  std::vector<uint8_t> body_;  // reused per block
};

// One IPv4 header (20 bytes, no options, checksum set) and a UDP header
// (checksum 0: none) before `payload`, into `out`. Addresses in host order.
void ipv4Udp(std::vector<uint8_t>& out, uint32_t src, uint32_t dst, uint16_t srcPort, uint16_t dstPort, uint16_t id,
             std::span<const uint8_t> payload);
// The same with a TCP header (PSH|ACK, checksum set) at sequence number `seq`.
void ipv4Tcp(std::vector<uint8_t>& out, uint32_t src, uint32_t dst, uint16_t srcPort, uint16_t dstPort, uint16_t id,
             uint32_t seq, std::span<const uint8_t> payload);

}  // namespace fh::capture
