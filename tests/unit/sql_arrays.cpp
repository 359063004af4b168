#define CAF_SUITE sql_arrays

#include "persistence/sql_arrays.hpp"

#include <caf/test/unit_test.hpp>

#include <string>

using diffplane::persistence::sql::array_literal;

CAF_TEST(text elements are quoted with quotes and backslashes escaped) {
  array_literal array;
  array.add_text("{\"name\":\"a\\\\b\"}");
  array.add_text("");
  array.add_text("plain");
  array.add_text("\"");
  array.add_text("\\");
  array.add_text("ends with \"");
  auto text = array.take();
  std::string expected =
      "{\"{\\\"name\\\":\\\"a\\\\\\\\b\\\"}\",\"\",\"plain\",\"\\\"\",\"\\\\\","
      "\"ends with \\\"\"}";
  CAF_CHECK_EQUAL(text, expected);
}

CAF_TEST(other elements and null) {
  array_literal array;
  array.add_int(-3);
  array.add_null();
  array.add_bool(true);
  array.add_text_or_null("");
  array.add_int_or_null(-1);
  auto text = array.take();
  CAF_CHECK_EQUAL(text, std::string{"{-3,NULL,t,NULL,NULL}"});
  auto empty = array.take();
  CAF_CHECK_EQUAL(empty, std::string{"{}"});
}

CAF_TEST(binary arrays carry a header then each element by its length) {
  using diffplane::persistence::sql::binary_array;
  binary_array texts{binary_array::element::text};
  texts.add_text("a\"b");
  texts.add_text_or_null("");
  auto text = texts.take();
  auto expected = std::string{"\0\0\0\1"
                              "\0\0\0\1"
                              "\0\0\0\x19"
                              "\0\0\0\2"
                              "\0\0\0\1"
                              "\0\0\0\3a\"b"
                              "\xff\xff\xff\xff",
                              31};
  CAF_CHECK_EQUAL(text, expected);
  binary_array numbers{binary_array::element::bigint};
  numbers.add_int(-2);
  auto bigint = numbers.take();
  auto expected_bigint = std::string{"\0\0\0\1"
                                     "\0\0\0\0"
                                     "\0\0\0\x14"
                                     "\0\0\0\1"
                                     "\0\0\0\1"
                                     "\0\0\0\x08\xff\xff\xff\xff\xff\xff\xff\xfe",
                                     32};
  CAF_CHECK_EQUAL(bigint, expected_bigint);
  binary_array small{binary_array::element::integer};
  small.add_int(7);
  binary_array flags{binary_array::element::boolean};
  flags.add_bool(true);
  auto integer = small.take();
  auto boolean = flags.take();
  CAF_CHECK_EQUAL(integer.substr(20), (std::string{"\0\0\0\4\0\0\0\7", 8}));
  CAF_CHECK_EQUAL(boolean.substr(20), (std::string{"\0\0\0\1\1", 5}));
}
