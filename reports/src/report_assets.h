// The report page's stylesheet and script (reports/assets/*), compiled in by
// embed_assets.cmake so report.html needs nothing from the network or disk.
#pragma once

namespace chaosbench::reports::assets {

extern const char* const kReportCss;
extern const char* const kReportJs;

}  // namespace chaosbench::reports::assets
