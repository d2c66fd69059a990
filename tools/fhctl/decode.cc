#include <cstdio>
#include <exception>

#include "commands.h"
#include "feed/file_source.h"
#include "itch/decoder.h"
#include "print.h"

namespace fh::ctl {

namespace {

const char* packetProblem(mold::PacketKind k) {
  switch (k) {
    case mold::PacketKind::Truncated:
      return "is shorter than the MoldUDP64 header";
    case mold::PacketKind::Overrun:
      return "has message blocks that overrun its end";
    case mold::PacketKind::Trailing:
      return "has bytes after its last message block";
    default:
      return "is malformed";
  }
}

struct NoHandler {};

class DecodeVisitor {
 public:
  DecodeVisitor(const DecodeOptions& options, Output& out) : options_(options), out_(out) {
    text_ = options.format == "text";
  }

  void message(const feed::MessageMeta& meta, const uint8_t* msg, uint16_t length) {
    NoHandler none;
    const itch::DecodeStatus s = itch::decode(msg, length, none);
    counters_.count(s, length > 0 ? msg[0] : 0);
    if (s == itch::DecodeStatus::Ok) {
      const MessageOrigin origin{meta.sequence, meta.session, meta.fromPacket};
      const itch::MessageLayout& layout = *itch::layoutOf(static_cast<char>(msg[0]));
      text_ ? printText(out_, origin, msg, layout) : printJsonl(out_, origin, msg, layout);
      return;
    }
    out_.flush();
    if (s == itch::DecodeStatus::UnknownType)
      std::fprintf(stderr, "fhctl decode: %s: seq %llu: unknown message type 0x%02x (%u bytes), skipped\n",
                   options_.file.c_str(), static_cast<unsigned long long>(meta.sequence), msg[0], length);
    else if (s == itch::DecodeStatus::Empty)
      std::fprintf(stderr, "fhctl decode: %s: seq %llu: empty message block, skipped\n", options_.file.c_str(),
                   static_cast<unsigned long long>(meta.sequence));
    else
      std::fprintf(stderr, "fhctl decode: %s: seq %llu: type '%c' message of %u bytes, expected %u; skipped\n",
                   options_.file.c_str(), static_cast<unsigned long long>(meta.sequence), msg[0], length,
                   itch::kLengthByType[msg[0]]);
  }

  void malformedPacket(uint64_t frame, const mold::PacketResult& r) {
    out_.flush();
    std::fprintf(stderr, "fhctl decode: %s: frame %llu: packet %s (count %u, %u complete blocks decoded)\n",
                 options_.file.c_str(), static_cast<unsigned long long>(frame), packetProblem(r.kind), r.header.count,
                 r.blocks);
  }

  const itch::DecodeCounters& counters() const { return counters_; }

 private:
  const DecodeOptions& options_;
  Output& out_;
  bool text_;
  itch::DecodeCounters counters_;
};

}  // namespace

int runDecode(const DecodeOptions& options) {
  try {
    const capture::MappedFile file(options.file);
    Output out(stdout);
    DecodeVisitor visitor(options, out);
    feed::FileSourceCounters source;
    const feed::FileSourceResult result =
        feed::replayFile(file.bytes(), feed::FileSourceOptions{options.port}, source, visitor);
    out.flush();
    const auto& c = visitor.counters();
    if (c.unknownType + c.badLength + source.packets.malformed() > 0)
      std::fprintf(stderr,
                   "fhctl decode: %s: %llu messages decoded; skipped %llu of unknown type, %llu of wrong "
                   "length, %llu malformed packets\n",
                   options.file.c_str(), static_cast<unsigned long long>(c.messages),
                   static_cast<unsigned long long>(c.unknownType), static_cast<unsigned long long>(c.badLength),
                   static_cast<unsigned long long>(source.packets.malformed()));
    if (out.failed()) {
      std::fprintf(stderr, "fhctl decode: cannot write the output\n");
      return 1;
    }
    if (!result.ok()) {
      std::fprintf(stderr, "fhctl decode: %s\n", result.describe(options.file).c_str());
      return 1;
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fhctl decode: %s\n", e.what());
    return 1;
  }
}

}  // namespace fh::ctl
