// libFuzzer target: arbitrary bytes as a capture file. Every reader a replay
// uses (format detection, BinaryFILE records, pcap and pcapng blocks, the
// Ethernet/VLAN/SLL/IPv4/UDP unwrap, MoldUDP64 blocks), both ways fhd reads a
// capture: every datagram in file order, and a feed's two lines through the
// sequencer. Nothing may crash, read out of bounds, hang, or deliver a
// message out of order from the sequencer.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "feed/file_source.h"
#include "feed/sequencer.h"

namespace {

struct Visitor {
  uint64_t messages = 0;
  void message(const fh::feed::MessageMeta&, const uint8_t* msg, uint16_t length) {
    if (length > 0 && msg == nullptr) std::abort();
    ++messages;
  }
  void malformedPacket(uint64_t, const fh::mold::PacketResult& r) {
    if (!r.malformed()) std::abort();
  }
};

struct InOrder {
  uint64_t last = 0;
  bool any = false;  // a message or gap of this session came
  void message(uint64_t sequence, uint64_t, const uint8_t*, uint16_t) noexcept {
    if (any && sequence <= last) std::abort();  // once and in order within a session
    last = sequence;
    any = true;
  }
  void gap(uint64_t first, uint64_t count) noexcept {
    if (count == 0 || (any && first <= last)) std::abort();
    last = first + count - 1;
    any = true;
  }
  void endOfSession() noexcept {}
  void join(uint64_t) noexcept {}
  void newSession() noexcept { any = false; }  // sequences start again
  void endOfPacket() noexcept {}
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> file(data, size);
  Visitor visitor;
  fh::feed::FileSourceCounters counters;
  (void)fh::feed::replayFile(file, {}, counters, visitor);

  InOrder sink;
  fh::feed::SequencerConfig config;
  config.heldPackets = 8;
  config.gapTimeoutNs = 1000;
  fh::feed::Sequencer<InOrder> sequencer(config, sink);
  const fh::feed::CaptureLine lines[2] = {{0xEF010101, 26400}, {0xEF010102, 26401}};
  fh::feed::FileSourceCounters lineCounters;
  uint64_t last = 0;
  (void)fh::feed::replayLines(file, lines, lineCounters, [&](int line, std::span<const uint8_t> p, uint64_t ts) {
    sequencer.packet(line, p, ts);
    last = ts;
  });
  sequencer.idle(last + 3'600'000'000'000);
  return 0;
}
