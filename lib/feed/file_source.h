// Replays a capture file as a stream of ITCH messages: each BinaryFILE record,
// or each MoldUDP64 message block of each UDP datagram of a pcap/pcapng file
// (optionally only those to one destination port). Counts what it skips and
// why. Or, for a capture of a feed's lines (replayLines), each datagram to a
// named line as a packet of that line, for a sequencer to put in order as it
// does live: a capture of both lines holds every packet twice. One thread;
// throws std::runtime_error naming the file on failure to open or map it.
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
  uint64_t portFiltered = 0;  // to another port, or (replayLines) to no line
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

// Calls onDatagram(const capture::Frame&, const capture::UdpDatagram&) for
// each UDP datagram of a pcap/pcapng; counts the frames that are not one.
template <class OnDatagram>
void forEachDatagram(std::span<const uint8_t> file, FileSourceCounters& counters, FileSourceResult& result,
                     OnDatagram&& onDatagram) {
  const auto r = capture::forEachFrame(file, result.format, [&](const capture::Frame& frame) {
    ++counters.frames;
    capture::UdpDatagram udp{};
    switch (capture::parseUdp(frame, udp)) {
      case capture::SkipReason::None:
        break;
      case capture::SkipReason::NotIpv4:
        ++counters.notIpv4;
        return;
      case capture::SkipReason::Fragment:
        ++counters.fragments;
        return;
      case capture::SkipReason::NotUdp:
        ++counters.notUdp;
        return;
      case capture::SkipReason::Truncated:
        ++counters.truncatedFrames;
        return;
      case capture::SkipReason::UnknownLink:
        ++counters.unknownLink;
        return;
    }
    onDatagram(frame, udp);
  });
  result.records = r.frames;
  result.truncated = r.truncated;
  result.truncatedAt = r.truncatedAt;
  result.error = r.error;
}

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
  forEachDatagram(file, counters, result, [&](const capture::Frame& frame, const capture::UdpDatagram& udp) {
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
  return result;
}

// A line of a feed in a capture: its destination group and port.
struct CaptureLine {
  uint32_t group = 0;  // IPv4, host byte order
  uint16_t port = 0;
};

// Calls onPacket(int line, std::span<const uint8_t> payload, uint64_t timestampNs)
// for each UDP datagram of a pcap/pcapng to one of `lines` (index 0 is line
// A), in capture order. A BinaryFILE has no lines: an error.
template <class OnPacket>
FileSourceResult replayLines(std::span<const uint8_t> file, std::span<const CaptureLine> lines,
                             FileSourceCounters& counters, OnPacket&& onPacket) {
  FileSourceResult result;
  result.format = capture::detectFormat(file);
  if (result.format == capture::Format::BinaryFile) {
    result.error = "a BinaryFILE holds messages, not a feed's lines: replay it without lines";
    return result;
  }
  forEachDatagram(file, counters, result, [&](const capture::Frame& frame, const capture::UdpDatagram& udp) {
    for (size_t line = 0; line < lines.size(); ++line)
      if (udp.dstAddr == lines[line].group && udp.dstPort == lines[line].port) {
        onPacket(static_cast<int>(line), udp.payload, frame.timestampNs);
        return;
      }
    ++counters.portFiltered;
  });
  return result;
}

}  // namespace fh::feed
