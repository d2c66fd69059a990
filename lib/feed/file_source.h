// Replays a capture file as a stream of ITCH messages: each BinaryFILE record,
// or each MoldUDP64 message block of each UDP datagram of a pcap/pcapng file
// (optionally only those to one destination port). Counts what it skips and
// why. One thread; throws std::runtime_error naming the file on failure to
// open or map it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "capture/capture.h"
#include "mold/moldudp64.h"

namespace fh::feed {

struct MessageMeta {
  uint64_t sequence;         // MoldUDP64 sequence, or 1-based position in a BinaryFILE
  std::string_view session;  // trimmed MoldUDP64 session; empty for a BinaryFILE
  uint64_t receivedNs;       // capture timestamp of the packet; 0 for a BinaryFILE
  bool fromPacket;           // false for a BinaryFILE record
};

struct FileSourceCounters {
  uint64_t frames = 0;
  uint64_t portFiltered = 0;
  uint64_t notIpv4 = 0;
  uint64_t fragments = 0;
  uint64_t notUdp = 0;
  uint64_t truncatedFrames = 0;
  uint64_t unknownLink = 0;
  mold::PacketCounters packets;
};

struct FileSourceResult {
  capture::Format format;
  uint64_t records = 0;  // BinaryFILE records or capture frames read
  bool truncated = false;
  uint64_t truncatedAt = 0;
  std::string error;  // empty when the whole file was read

  bool ok() const noexcept { return !truncated && error.empty(); }
  std::string describe(const std::string& path) const;
};

struct FileSourceOptions {
  std::optional<uint16_t> port;  // only datagrams to this destination port
};

// A visitor receives:
//   void message(const MessageMeta&, const uint8_t* msg, uint16_t length);
//   void malformedPacket(uint64_t frameNumber, const mold::PacketResult&);
template <class Visitor>
FileSourceResult replayFile(std::span<const uint8_t> file, const FileSourceOptions& options,
                            FileSourceCounters& counters, Visitor& visitor) {
  FileSourceResult result;
  result.format = capture::detectFormat(file);
  if (result.format == capture::Format::BinaryFile) {
    const auto r = capture::forEachRecord(file, [&](uint64_t position, const uint8_t* msg, uint16_t length) {
      visitor.message(MessageMeta{position, {}, 0, false}, msg, length);
    });
    result.records = r.records;
    result.truncated = r.truncated;
    result.truncatedAt = r.truncatedAt;
    return result;
  }
  const auto r = capture::forEachFrame(file, result.format, [&](const capture::Frame& frame) {
    ++counters.frames;
    capture::UdpDatagram udp{};
    switch (capture::parseUdp(frame, udp)) {
      case capture::SkipReason::None: break;
      case capture::SkipReason::NotIpv4: ++counters.notIpv4; return;
      case capture::SkipReason::Fragment: ++counters.fragments; return;
      case capture::SkipReason::NotUdp: ++counters.notUdp; return;
      case capture::SkipReason::Truncated: ++counters.truncatedFrames; return;
      case capture::SkipReason::UnknownLink: ++counters.unknownLink; return;
    }
    if (options.port && udp.dstPort != *options.port) {
      ++counters.portFiltered;
      return;
    }
    std::string_view session;
    mold::PacketHeader header{};
    if (udp.payload.size() >= mold::kHeaderLength) {
      header = mold::readHeader(udp.payload.data());
      session = header.sessionTrimmed();
    }
    const auto packet = mold::forEachMessage(udp.payload, [&](uint64_t seq, const uint8_t* msg, uint16_t length) {
      visitor.message(MessageMeta{seq, session, frame.timestampNs, true}, msg, length);
    });
    counters.packets.count(packet.kind);
    if (packet.malformed()) visitor.malformedPacket(counters.frames, packet);
  });
  result.records = r.frames;
  result.truncated = r.truncated;
  result.truncatedAt = r.truncatedAt;
  result.error = r.error;
  return result;
}

}  // namespace fh::feed
