#include "markup.h"

namespace chaosbench::reports {

std::string escape_markup(std::string_view text, std::string_view apostrophe) {
  std::string escaped;
  escaped.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        escaped += "&amp;";
        break;
      case '<':
        escaped += "&lt;";
        break;
      case '>':
        escaped += "&gt;";
        break;
      case '"':
        escaped += "&quot;";
        break;
      case '\'':
        escaped += apostrophe;
        break;
      default:
        escaped += c;
    }
  }
  return escaped;
}

std::string text_of(const nlohmann::json& value) {
  return value.is_string() ? value.get<std::string>() : value.is_null() ? std::string() : value.dump();
}

std::string table_page_head(std::string_view title, std::string_view page_css) {
  std::string head = R"(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>)";
  head += escape_markup(title, "&#39;");
  head += R"(</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
header{background:#1d2330;color:#fff;padding:18px 28px}h1{margin:0;font-size:20px;font-weight:600}
header p{margin:4px 0 0;color:#aab3c5}main{padding:20px 28px}
table{border-collapse:collapse;width:100%;background:#fff;box-shadow:0 1px 3px rgba(0,0,0,.08);border-radius:6px;overflow:hidden}
th,td{text-align:left;padding:8px 12px;border-bottom:1px solid #eceef2;white-space:nowrap}
th{background:#eef0f4;font-weight:600;font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:#535d70}
td.num{text-align:right;font-variant-numeric:tabular-nums}tr:hover td{background:#f8f9fc}
)";
  head += page_css;
  head += "</style></head><body>\n";
  return head;
}

}  // namespace chaosbench::reports
