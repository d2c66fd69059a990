// fhsim publish: the exchange side of the feed. ITCH 5.0 messages (from a
// BinaryFILE, a pcap/pcapng of MoldUDP64, or a synthetic day) sent as MoldUDP64
// downstream packets to a multicast group on line A and optionally line B,
// paced, with faults injected on request; or written to a pcap (dry run).
// Single-threaded control-plane code; throws std::invalid_argument naming the
// option on bad options and std::runtime_error on I/O and socket errors.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "generator.h"
#include "glimpse_server.h"
#include "rerequest_server.h"

namespace fh::sim {

struct LineAddress {
  std::string group;  // dotted IPv4, in 239.0.0.0/8
  uint16_t port = 0;
};

// Data packets first .. first+count-1 (numbered from 1); count 0: none.
struct PacketRange {
  uint64_t first = 0, count = 0;
  bool contains(uint64_t packet) const noexcept { return count != 0 && packet >= first && packet - first < count; }
};

struct PublishOptions {
  std::string file;                          // BinaryFILE, pcap or pcapng; or
  std::optional<GeneratorOptions> generate;  // a synthetic day made in memory
  std::optional<uint16_t> filePort;          // only a capture's datagrams to this destination port

  std::string session = "FH00000001";  // up to 10 characters, padded with spaces
  uint64_t firstSequence = 1;
  uint32_t mtu = 1500;               // a packet's payload is at most mtu - 28 bytes
  uint32_t messagesPerPacket = 0;    // 0: as many as fit
  uint32_t heartbeats = 0;           // heartbeat packets after the last message
  uint32_t endOfSessionRepeats = 3;  // End of Session packets, on each line

  LineAddress lineA;
  std::optional<LineAddress> lineB;
  std::string interface;  // name or IPv4 address; required unless dryRunPcap
  std::string source;     // optional bind address, in 198.18.0.0/15
  uint32_t ttl = 1;
  bool loop = false;  // IP_MULTICAST_LOOP

  uint64_t rate = 0;  // messages per second; 0 for as fast as possible
  uint32_t bDelayUs = 0;

  // Data packets are numbered from 1; every Nth is dropped (0: none).
  uint32_t dropA = 0, dropB = 0, dropBoth = 0;
  uint32_t reorderA = 0;  // pairs of data packets (1,2), (3,4)...: every Nth pair goes out swapped on A
  // Faults drawn from a seed, each line on its own: the same seed and options
  // give the same faults.
  uint64_t faultSeed = 1;
  double lossA = 0, lossB = 0;            // percent of data packets lost at random
  double duplicateA = 0, duplicateB = 0;  // percent of data packets sent twice
  PacketRange burstBoth;                  // lost on both lines
  PacketRange silenceA, silenceB;         // the line sends nothing while these go out

  RerequestOptions rerequest;  // the re-request server, when rerequest.listen is set
  GlimpseOptions glimpse;      // the GLIMPSE snapshot server, when glimpse.listen is set

  std::string dryRunPcap;        // write line A's packets here instead of sending
  bool dryRunBothLines = false;  // and line B's, interleaved as they would be sent
  // Rewrite each message's ITCH timestamp with the time the packet is sent
  // (nanoseconds since midnight in New York, today): a receiver's ts_recv -
  // ts_event is then the network path's delay. For benchmarks.
  bool stamp = false;
};

struct LineSummary {
  uint64_t packets = 0;     // sent, heartbeats and End of Session included
  uint64_t messages = 0;    // in the data packets sent
  uint64_t dropped = 0;     // data packets dropped by the fault options
  uint64_t duplicated = 0;  // data packets sent twice
  uint64_t bytes = 0;       // UDP payload bytes sent
};

struct PublishSummary {
  uint64_t messages = 0;     // taken from the input
  uint64_t dataPackets = 0;  // built (before faults)
  uint64_t firstSequence = 0;
  uint64_t lastSequence = 0;  // firstSequence - 1 when there was no message
  uint64_t malformedInputPackets = 0;
  LineSummary lineA;
  std::optional<LineSummary> lineB;
  std::optional<RerequestSummary> rerequest;
  std::optional<GlimpseSummary> glimpse;
  double seconds = 0;
};

// Checks the options alone (addresses, ranges, exclusive choices); publish()
// calls it first.
void validate(const PublishOptions& options);

PublishSummary publish(const PublishOptions& options);

// The end-of-run report: a few lines for people.
std::string describe(const PublishOptions& options, const PublishSummary& summary);

}  // namespace fh::sim
