#include "gateway/inform_document.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>

namespace diffplane::gateway {

/// Reads JSON text into an inform_document, accepting what nlohmann's parser accepts
/// (RFC 8259, a leading UTF-8 BOM, well-formed UTF-8 in strings, numbers as integers
/// while they fit else doubles, no infinities, a NUL byte as the end of the input) and
/// nothing else. Faster than nlohmann's lexer, which copies each character twice (its
/// token and error buffers), and it builds no DOM.
class inform_reader {
public:
  inform_reader(std::string_view text, inform_document& doc)
      : p_(text.data()), end_(text.data() + text.size()), doc_(doc) {}

  bool read() {
    if (p_ != end_ && static_cast<unsigned char>(*p_) == 0xEF) {
      if (end_ - p_ < 3 || static_cast<unsigned char>(p_[1]) != 0xBB ||
          static_cast<unsigned char>(p_[2]) != 0xBF)
        return false;
      p_ += 3;
    }
    skip_space();
    if (!read_value(0, 0, 0))
      return false;
    skip_space();
    // nlohmann's lexer reads a NUL byte as the end of the input.
    return p_ == end_ || *p_ == '\0';
  }

private:
  using type = inform_document::type;
  using value = inform_document::value;

  void skip_space() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r'))
      ++p_;
  }

  value& add(type kind, std::uint32_t key_at, std::uint32_t key_size) {
    auto& v = doc_.values_.emplace_back();
    v.kind = kind;
    v.key_at = key_at;
    v.key_size = key_size;
    v.end = static_cast<std::uint32_t>(doc_.values_.size());
    return v;
  }

  bool read_value(int depth, std::uint32_t key_at, std::uint32_t key_size) {
    if (p_ == end_)
      return false;
    switch (*p_) {
    case '{':
    case '[': {
      // Only bounds the recursion: decode_inform refuses far shallower bodies before.
      if (depth >= inform_document::max_depth)
        return false;
      const bool object = *p_ == '{';
      const char close = object ? '}' : ']';
      const auto index = static_cast<std::uint32_t>(doc_.values_.size());
      add(object ? type::object : type::array, key_at, key_size);
      ++p_;
      skip_space();
      if (p_ != end_ && *p_ == close) {
        ++p_;
      } else {
        while (true) {
          std::uint32_t member_at = 0, member_size = 0;
          if (object) {
            if (p_ == end_ || *p_ != '"' || !read_string(member_at, member_size))
              return false;
            skip_space();
            if (p_ == end_ || *p_ != ':')
              return false;
            ++p_;
            skip_space();
          }
          if (!read_value(depth + 1, member_at, member_size))
            return false;
          skip_space();
          if (p_ == end_)
            return false;
          if (*p_ == close) {
            ++p_;
            break;
          }
          if (*p_ != ',')
            return false;
          ++p_;
          skip_space();
        }
      }
      doc_.values_[index].end = static_cast<std::uint32_t>(doc_.values_.size());
      return true;
    }
    case '"': {
      std::uint32_t at = 0, size = 0;
      if (!read_string(at, size))
        return false;
      auto& v = add(type::string, key_at, key_size);
      v.text_at = at;
      v.text_size = size;
      return true;
    }
    case 't':
      return read_literal("true") && (add(type::boolean, key_at, key_size).boolean = true);
    case 'f':
      return read_literal("false") && (add(type::boolean, key_at, key_size), true);
    case 'n':
      return read_literal("null") && (add(type::null, key_at, key_size), true);
    default:
      return read_number(key_at, key_size);
    }
  }

  bool read_literal(std::string_view literal) {
    if (static_cast<std::size_t>(end_ - p_) < literal.size() ||
        std::string_view{p_, literal.size()} != literal)
      return false;
    p_ += literal.size();
    return true;
  }

  static bool is_digit(char c) { return c >= '0' && c <= '9'; }

  bool read_digits() {
    if (p_ == end_ || !is_digit(*p_))
      return false;
    while (p_ != end_ && is_digit(*p_))
      ++p_;
    return true;
  }

  bool read_number(std::uint32_t key_at, std::uint32_t key_size) {
    const char* start = p_;
    const bool negative = *p_ == '-';
    if (negative)
      ++p_;
    if (p_ == end_)
      return false;
    if (*p_ == '0')
      ++p_;
    else if (!read_digits())
      return false;
    bool real = false;
    if (p_ != end_ && *p_ == '.') {
      ++p_;
      if (!read_digits())
        return false;
      real = true;
    }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (p_ != end_ && (*p_ == '+' || *p_ == '-'))
        ++p_;
      if (!read_digits())
        return false;
      real = true;
    }
    // Integers while they fit, as nlohmann's strtoll / strtoull, else a double.
    if (!real && negative) {
      std::int64_t n = 0;
      if (auto [end, ec] = std::from_chars(start, p_, n); ec == std::errc{}) {
        add(type::integer, key_at, key_size).integer = n;
        return true;
      }
    } else if (!real) {
      std::uint64_t n = 0;
      if (auto [end, ec] = std::from_chars(start, p_, n); ec == std::errc{}) {
        add(type::unsigned_integer, key_at, key_size).unsigned_integer = n;
        return true;
      }
    }
    double d = 0;
    if (auto [end, ec] = std::from_chars(start, p_, d); ec == std::errc::result_out_of_range) {
      // Beyond a double's range: underflow gives the (signed) zero or subnormal strtod
      // gives, overflow is refused below.
      std::string copy{start, p_};
      d = std::strtod(copy.c_str(), nullptr);
    } else if (ec != std::errc{}) {
      return false;
    }
    if (!std::isfinite(d))
      return false;
    add(type::real, key_at, key_size).real = d;
    return true;
  }

  /// The four hex digits after "\u", or -1.
  long read_hex4() {
    unsigned code = 0;
    if (end_ - p_ < 4 || std::from_chars(p_, p_ + 4, code, 16).ptr != p_ + 4)
      return -1;
    p_ += 4;
    return static_cast<long>(code);
  }

  void append_utf8(std::string& out, long code) {
    if (code < 0x80) {
      out += static_cast<char>(code);
    } else if (code < 0x800) {
      out += static_cast<char>(0xC0 | (code >> 6));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else if (code < 0x10000) {
      out += static_cast<char>(0xE0 | (code >> 12));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (code >> 18));
      out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    }
  }

  /// The length of the well-formed UTF-8 sequence at p_ (RFC 3629), or 0.
  std::size_t utf8_length() const {
    auto byte = [this](std::ptrdiff_t i) {
      return i < end_ - p_ ? static_cast<unsigned char>(p_[i]) : 0u;
    };
    auto in = [](unsigned c, unsigned low, unsigned high) { return c >= low && c <= high; };
    const unsigned c = byte(0);
    if (in(c, 0xC2, 0xDF))
      return in(byte(1), 0x80, 0xBF) ? 2 : 0;
    unsigned low = 0x80, high = 0xBF;
    if (c == 0xE0)
      low = 0xA0;
    else if (c == 0xED)
      high = 0x9F;
    else if (c == 0xF0)
      low = 0x90;
    else if (c == 0xF4)
      high = 0x8F;
    if (in(c, 0xE0, 0xEF))
      return in(byte(1), low, high) && in(byte(2), 0x80, 0xBF) ? 3 : 0;
    if (in(c, 0xF0, 0xF4))
      return in(byte(1), low, high) && in(byte(2), 0x80, 0xBF) && in(byte(3), 0x80, 0xBF)
                 ? 4
                 : 0;
    return 0;
  }

  /// The string at p_ (its opening quote) decoded into the arena.
  bool read_string(std::uint32_t& at, std::uint32_t& size) {
    auto& out = doc_.arena_;
    at = static_cast<std::uint32_t>(out.size());
    ++p_;
    while (true) {
      const char* run = p_;
      while (p_ != end_ && static_cast<unsigned char>(*p_) >= 0x20 &&
             static_cast<unsigned char>(*p_) < 0x80 && *p_ != '"' && *p_ != '\\')
        ++p_;
      out.append(run, p_);
      if (p_ == end_)
        return false;
      const auto c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        ++p_;
        size = static_cast<std::uint32_t>(out.size() - at);
        return true;
      }
      if (c < 0x20)
        return false;
      if (c >= 0x80) {
        auto n = utf8_length();
        if (n == 0)
          return false;
        out.append(p_, n);
        p_ += n;
        continue;
      }
      // A backslash.
      if (++p_ == end_)
        return false;
      switch (*p_++) {
      case '"':
        out += '"';
        break;
      case '\\':
        out += '\\';
        break;
      case '/':
        out += '/';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'u': {
        auto code = read_hex4();
        if (code < 0 || (code >= 0xDC00 && code <= 0xDFFF))
          return false;
        if (code >= 0xD800 && code <= 0xDBFF) {
          if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u')
            return false;
          p_ += 2;
          auto low = read_hex4();
          if (low < 0xDC00 || low > 0xDFFF)
            return false;
          code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
        }
        append_utf8(out, code);
        break;
      }
      default:
        return false;
      }
    }
  }

  const char* p_;
  const char* end_;
  inform_document& doc_;
};

bool inform_document::parse(std::string_view body) {
  values_.clear();
  arena_.clear();
  if (body.size() >= std::numeric_limits<std::uint32_t>::max())
    return false;
  // About a value per 8 bytes of an SDK's body; the strings are shorter than the body.
  values_.reserve(body.size() / 8);
  arena_.reserve(body.size());
  return inform_reader{body, *this}.read();
}

} // namespace diffplane::gateway
