#include "persistence/iso8601.hpp"

#include <charconv>
#include <chrono>
#include <cstdio>

namespace diffplane {

std::string format_iso8601(timestamp_ms ms) {
  using namespace std::chrono;
  sys_time<milliseconds> tp{milliseconds{ms}};
  auto day = floor<days>(tp);
  year_month_day ymd{day};
  hh_mm_ss<milliseconds> time{tp - day};
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ",
                static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()), static_cast<int>(time.hours().count()),
                static_cast<int>(time.minutes().count()),
                static_cast<int>(time.seconds().count()),
                static_cast<int>(time.subseconds().count()));
  return buffer;
}

namespace {

bool digits(std::string_view text, std::size_t pos, std::size_t count, int& out) {
  if (pos + count > text.size())
    return false;
  auto first = text.data() + pos;
  auto [end, ec] = std::from_chars(first, first + count, out);
  return ec == std::errc{} && end == first + count;
}

} // namespace

std::optional<timestamp_ms> parse_iso8601(std::string_view text) {
  using namespace std::chrono;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (!digits(text, 0, 4, y) || text.size() < 10 || text[4] != '-' ||
      !digits(text, 5, 2, mo) || text[7] != '-' || !digits(text, 8, 2, d))
    return std::nullopt;
  year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)},
                     day{static_cast<unsigned>(d)}};
  if (!ymd.ok())
    return std::nullopt;
  std::size_t pos = 10;
  long long millis = 0;
  long long offset_minutes = 0;
  if (pos < text.size()) {
    if ((text[pos] != 'T' && text[pos] != ' ') || !digits(text, pos + 1, 2, h) ||
        text.size() < pos + 9 || text[pos + 3] != ':' || !digits(text, pos + 4, 2, mi) ||
        text[pos + 6] != ':' || !digits(text, pos + 7, 2, s))
      return std::nullopt;
    if (h > 23 || mi > 59 || s > 60)
      return std::nullopt;
    pos += 9;
    if (pos < text.size() && text[pos] == '.') {
      ++pos;
      int scale = 100;
      std::size_t start = pos;
      while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
        millis += (text[pos] - '0') * scale;
        scale /= 10;
        ++pos;
      }
      if (pos == start)
        return std::nullopt;
    }
    if (pos < text.size()) {
      if (text[pos] == 'Z' && pos + 1 == text.size()) {
        ++pos;
      } else if ((text[pos] == '+' || text[pos] == '-') && text.size() == pos + 6 &&
                 text[pos + 3] == ':') {
        int oh = 0, om = 0;
        if (!digits(text, pos + 1, 2, oh) || !digits(text, pos + 4, 2, om))
          return std::nullopt;
        offset_minutes = (text[pos] == '+' ? 1 : -1) * (oh * 60 + om);
        pos += 6;
      } else {
        return std::nullopt;
      }
    }
  }
  if (pos != text.size())
    return std::nullopt;
  auto tp = sys_days{ymd} + hours{h} + minutes{mi} + seconds{s} + milliseconds{millis} -
            minutes{offset_minutes};
  return duration_cast<milliseconds>(tp.time_since_epoch()).count();
}

} // namespace diffplane
