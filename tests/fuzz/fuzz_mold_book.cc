// libFuzzer target: arbitrary bytes as a stream of MoldUDP64 packets (each
// prefixed by a 2-byte big-endian length), through the packet parser, the ITCH
// decoder, the order books and the record builder. After every input the books
// must agree with the live orders they hold, level by level.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <utility>

#include "book/book_builder.h"
#include "itch/decoder.h"
#include "mold/moldudp64.h"

namespace {

struct CheckRecords {
  void mbo(const fh::record::MboMsg& m) {
    if (m.action != fh::record::Action::Trade && m.hd.instrumentId == 0) std::abort();
  }
  void mbp1(const fh::record::Mbp1Msg& m) {
    const auto& l = m.levels[0];
    // An empty side is undefined, a present one has orders.
    if ((l.bidPx == fh::record::kUndefPrice) != (l.bidCt == 0)) std::abort();
    if ((l.askPx == fh::record::kUndefPrice) != (l.askCt == 0)) std::abort();
  }
};

void checkBooks(const fh::book::OrderBooks& books) {
  for (uint32_t locate = 1; locate < books.maxInstruments(); ++locate) {
    const auto loc = static_cast<uint16_t>(locate);
    for (auto side : {fh::book::Side::Bid, fh::book::Side::Ask}) {
      std::map<fh::book::Price, std::pair<uint64_t, uint32_t>> expected;
      books.forEachOrder(loc, [&](const fh::book::LiveOrder& o) {
        if (o.side != side) return;
        auto& e = expected[o.price];
        e.first += o.shares;
        e.second += 1;
      });
      if (books.depth(loc, side) != expected.size()) std::abort();
      uint32_t i = 0;
      for (auto it = expected.begin(); it != expected.end(); ++it, ++i) {
        const uint32_t index = side == fh::book::Side::Bid ? static_cast<uint32_t>(expected.size()) - 1 - i : i;
        const auto l = books.level(loc, side, index);
        if (l.price != it->first || l.shares != it->second.first || l.orders != it->second.second) std::abort();
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fh::book::BookConfig config;
  config.maxInstruments = 16;  // small stores: full-store paths are reached too
  config.maxOrders = 64;
  config.maxLevels = 64;
  fh::book::OrderBooks books(config);
  CheckRecords sink;
  fh::book::BookBuilder<CheckRecords> builder(books, sink, 0);
  fh::itch::DecodeCounters decoded;
  fh::mold::PacketCounters packets;

  size_t offset = 0;
  while (size - offset >= 2) {
    const size_t length = std::min<size_t>(size_t{data[offset]} << 8 | data[offset + 1], size - offset - 2);
    const std::span<const uint8_t> packet(data + offset + 2, length);
    offset += 2 + length;
    const auto r = fh::mold::forEachMessage(packet, [&](uint64_t seq, const uint8_t* msg, uint16_t n) {
      if (msg < packet.data() || msg + n > packet.data() + packet.size()) std::abort();
      builder.setContext(seq, 0);
      decoded.count(fh::itch::decode(msg, n, builder), n > 0 ? msg[0] : 0);
    });
    packets.count(r.kind);
    if (r.kind == fh::mold::PacketKind::Messages && r.blocks != r.header.count) std::abort();
  }
  checkBooks(books);
  return 0;
}
