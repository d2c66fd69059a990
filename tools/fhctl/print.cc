#include "print.h"

#include <charconv>

#include "util/bytes.h"

namespace fh::ctl {

void Output::putUnsigned(uint64_t v) {
  char tmp[20];
  const auto r = std::to_chars(tmp, tmp + sizeof tmp, v);
  buf_.append(tmp, r.ptr);
}

void Output::flush() {
  if (!buf_.empty() && std::fwrite(buf_.data(), 1, buf_.size(), f_) != buf_.size()) failed_ = true;
  buf_.clear();
  if (std::fflush(f_) != 0) failed_ = true;
}

void putJsonString(Output& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.put('"');
  for (const char c : s) {
    const auto b = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.put('\\');
      out.put(c);
    } else if (b < 0x20 || b > 0x7E) {
      out.put("\\u00");
      out.put(kHex[b >> 4]);
      out.put(kHex[b & 0xF]);
    } else {
      out.put(c);
    }
  }
  out.put('"');
}

namespace {

std::string_view alphaField(const uint8_t* msg, const itch::Field& f) {
  const auto* p = reinterpret_cast<const char*>(msg + f.offset);
  if (f.width == 1) return {p, 1};  // one-byte Alpha stays as it is, a space included
  return alphaTrimmed(msg + f.offset, f.width);
}

std::string decimal(uint64_t value, unsigned decimals) {
  uint64_t scale = 1;
  for (unsigned i = 0; i < decimals; ++i) scale *= 10;
  std::string s = std::to_string(value / scale);
  uint64_t frac = value % scale;
  if (frac != 0) {
    std::string digits = std::to_string(frac);
    digits.insert(0, decimals - digits.size(), '0');
    while (digits.back() == '0') digits.pop_back();
    s += '.';
    s += digits;
  }
  return s;
}

}  // namespace

std::string decimalPrice4(uint32_t price) { return decimal(price, 4); }

std::string decimalPrice9(int64_t price) {
  if (price == INT64_MAX) return "null";  // DBN's UNDEF_PRICE
  const uint64_t magnitude = price < 0 ? 0 - static_cast<uint64_t>(price) : static_cast<uint64_t>(price);
  std::string s = decimal(magnitude, 9);
  if (price < 0) s.insert(s.begin(), '-');
  return s;
}

std::string timeOfDay(uint64_t ns) {
  char buf[32];
  const uint64_t s = ns / 1'000'000'000;
  std::snprintf(buf, sizeof buf, "%02llu:%02llu:%02llu.%09llu", static_cast<unsigned long long>(s / 3600),
                static_cast<unsigned long long>(s / 60 % 60), static_cast<unsigned long long>(s % 60),
                static_cast<unsigned long long>(ns % 1'000'000'000));
  return buf;
}

void printJsonl(Output& out, const MessageOrigin& origin, const uint8_t* msg, const itch::MessageLayout& layout) {
  const itch::MessageView m{msg};
  out.put("{\"seq\":");
  out.putUnsigned(origin.sequence);
  if (origin.hasSession) {
    out.put(",\"session\":");
    putJsonString(out, origin.session);
  }
  out.put(",\"type\":");
  putJsonString(out, {reinterpret_cast<const char*>(msg), 1});
  out.put(",\"locate\":");
  out.putUnsigned(m.locate());
  out.put(",\"tracking\":");
  out.putUnsigned(m.tracking());
  out.put(",\"timestamp\":");
  out.putUnsigned(m.timestamp());
  for (const itch::Field& f : layout.fields) {
    out.put(",\"");
    out.put(f.name);
    out.put("\":");
    if (f.kind == itch::FieldKind::Alpha)
      putJsonString(out, alphaField(msg, f));
    else
      out.putUnsigned(loadBeN(msg + f.offset, f.width));
  }
  out.put('}');
  out.endLine();
}

void printText(Output& out, const MessageOrigin& origin, const uint8_t* msg, const itch::MessageLayout& layout) {
  const itch::MessageView m{msg};
  out.putUnsigned(origin.sequence);
  if (origin.hasSession) {
    out.put(' ');
    out.put(origin.session.empty() ? std::string_view{"-"} : origin.session);
  }
  out.put(' ');
  out.put(timeOfDay(m.timestamp()));
  out.put(' ');
  out.put(std::string_view{reinterpret_cast<const char*>(msg), 1});
  out.put(' ');
  out.put(layout.name);
  out.put(" locate=");
  out.putUnsigned(m.locate());
  for (const itch::Field& f : layout.fields) {
    out.put(' ');
    out.put(f.name);
    out.put('=');
    const uint64_t v = f.kind == itch::FieldKind::Alpha ? 0 : loadBeN(msg + f.offset, f.width);
    switch (f.kind) {
      case itch::FieldKind::Alpha: {
        std::string_view s = alphaField(msg, f);
        std::string shown;
        for (const char c : s) shown += (c >= 0x20 && c <= 0x7E) ? c : '?';
        if (shown.empty() || shown.find(' ') != std::string::npos)
          out.put("'" + shown + "'");
        else
          out.put(shown);
        break;
      }
      case itch::FieldKind::Integer:
      case itch::FieldKind::Time:
        out.putUnsigned(v);
        break;
      case itch::FieldKind::Price4:
        out.put(decimal(v, 4));
        break;
      case itch::FieldKind::Price8:
        out.put(decimal(v, 8));
        break;
    }
  }
  out.endLine();
}

}  // namespace fh::ctl
