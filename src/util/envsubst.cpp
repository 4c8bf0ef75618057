// clusterctl's variable processor, rebuilt in C++: the whitespace clean-up of convertLegacyVars, then
// drone/envsubst's scanner and parser (including its quirks: they decide what clusterctl accepts),
// clusterctl's inspection of the parsed expressions (which variables exist and which have a default),
// and drone/envsubst's string functions over Go's Unicode and glob rules.
#include <kurator/util/envsubst.hpp>

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

namespace kurator::envsubst {
namespace {

// ---------------------------------------------------------------------------------------------------
// Unicode as Go's unicode and unicode/utf8 packages see it. The tables were generated with Go 1.26
// (Unicode 15.0.0, like the Go 1.26.5 that builds clusterctl v1.14.0): runes >= 0x80 for which
// unicode.IsLetter || unicode.IsDigit holds, and unicode.CaseRanges (upper and lower deltas).

struct RuneRange {
  char32_t lo;
  char32_t hi;
};
constexpr int32_t kUpperLower = 0x110000;  // alternating Upper/Lower pairs starting at lo
struct CaseRange {
  char32_t lo;
  char32_t hi;
  int32_t upper;
  int32_t lower;
};

constexpr RuneRange kIdentRanges[] = {
    {0xAA, 0xAA}, {0xB5, 0xB5}, {0xBA, 0xBA}, {0xC0, 0xD6}, {0xD8, 0xF6}, {0xF8, 0x2C1}, {0x2C6, 0x2D1},
    {0x2E0, 0x2E4}, {0x2EC, 0x2EC}, {0x2EE, 0x2EE}, {0x370, 0x374}, {0x376, 0x377}, {0x37A, 0x37D},
    {0x37F, 0x37F}, {0x386, 0x386}, {0x388, 0x38A}, {0x38C, 0x38C}, {0x38E, 0x3A1}, {0x3A3, 0x3F5},
    {0x3F7, 0x481}, {0x48A, 0x52F}, {0x531, 0x556}, {0x559, 0x559}, {0x560, 0x588}, {0x5D0, 0x5EA},
    {0x5EF, 0x5F2}, {0x620, 0x64A}, {0x660, 0x669}, {0x66E, 0x66F}, {0x671, 0x6D3}, {0x6D5, 0x6D5},
    {0x6E5, 0x6E6}, {0x6EE, 0x6FC}, {0x6FF, 0x6FF}, {0x710, 0x710}, {0x712, 0x72F}, {0x74D, 0x7A5},
    {0x7B1, 0x7B1}, {0x7C0, 0x7EA}, {0x7F4, 0x7F5}, {0x7FA, 0x7FA}, {0x800, 0x815}, {0x81A, 0x81A},
    {0x824, 0x824}, {0x828, 0x828}, {0x840, 0x858}, {0x860, 0x86A}, {0x870, 0x887}, {0x889, 0x88E},
    {0x8A0, 0x8C9}, {0x904, 0x939}, {0x93D, 0x93D}, {0x950, 0x950}, {0x958, 0x961}, {0x966, 0x96F},
    {0x971, 0x980}, {0x985, 0x98C}, {0x98F, 0x990}, {0x993, 0x9A8}, {0x9AA, 0x9B0}, {0x9B2, 0x9B2},
    {0x9B6, 0x9B9}, {0x9BD, 0x9BD}, {0x9CE, 0x9CE}, {0x9DC, 0x9DD}, {0x9DF, 0x9E1}, {0x9E6, 0x9F1},
    {0x9FC, 0x9FC}, {0xA05, 0xA0A}, {0xA0F, 0xA10}, {0xA13, 0xA28}, {0xA2A, 0xA30}, {0xA32, 0xA33},
    {0xA35, 0xA36}, {0xA38, 0xA39}, {0xA59, 0xA5C}, {0xA5E, 0xA5E}, {0xA66, 0xA6F}, {0xA72, 0xA74},
    {0xA85, 0xA8D}, {0xA8F, 0xA91}, {0xA93, 0xAA8}, {0xAAA, 0xAB0}, {0xAB2, 0xAB3}, {0xAB5, 0xAB9},
    {0xABD, 0xABD}, {0xAD0, 0xAD0}, {0xAE0, 0xAE1}, {0xAE6, 0xAEF}, {0xAF9, 0xAF9}, {0xB05, 0xB0C},
    {0xB0F, 0xB10}, {0xB13, 0xB28}, {0xB2A, 0xB30}, {0xB32, 0xB33}, {0xB35, 0xB39}, {0xB3D, 0xB3D},
    {0xB5C, 0xB5D}, {0xB5F, 0xB61}, {0xB66, 0xB6F}, {0xB71, 0xB71}, {0xB83, 0xB83}, {0xB85, 0xB8A},
    {0xB8E, 0xB90}, {0xB92, 0xB95}, {0xB99, 0xB9A}, {0xB9C, 0xB9C}, {0xB9E, 0xB9F}, {0xBA3, 0xBA4},
    {0xBA8, 0xBAA}, {0xBAE, 0xBB9}, {0xBD0, 0xBD0}, {0xBE6, 0xBEF}, {0xC05, 0xC0C}, {0xC0E, 0xC10},
    {0xC12, 0xC28}, {0xC2A, 0xC39}, {0xC3D, 0xC3D}, {0xC58, 0xC5A}, {0xC5D, 0xC5D}, {0xC60, 0xC61},
    {0xC66, 0xC6F}, {0xC80, 0xC80}, {0xC85, 0xC8C}, {0xC8E, 0xC90}, {0xC92, 0xCA8}, {0xCAA, 0xCB3},
    {0xCB5, 0xCB9}, {0xCBD, 0xCBD}, {0xCDD, 0xCDE}, {0xCE0, 0xCE1}, {0xCE6, 0xCEF}, {0xCF1, 0xCF2},
    {0xD04, 0xD0C}, {0xD0E, 0xD10}, {0xD12, 0xD3A}, {0xD3D, 0xD3D}, {0xD4E, 0xD4E}, {0xD54, 0xD56},
    {0xD5F, 0xD61}, {0xD66, 0xD6F}, {0xD7A, 0xD7F}, {0xD85, 0xD96}, {0xD9A, 0xDB1}, {0xDB3, 0xDBB},
    {0xDBD, 0xDBD}, {0xDC0, 0xDC6}, {0xDE6, 0xDEF}, {0xE01, 0xE30}, {0xE32, 0xE33}, {0xE40, 0xE46},
    {0xE50, 0xE59}, {0xE81, 0xE82}, {0xE84, 0xE84}, {0xE86, 0xE8A}, {0xE8C, 0xEA3}, {0xEA5, 0xEA5},
    {0xEA7, 0xEB0}, {0xEB2, 0xEB3}, {0xEBD, 0xEBD}, {0xEC0, 0xEC4}, {0xEC6, 0xEC6}, {0xED0, 0xED9},
    {0xEDC, 0xEDF}, {0xF00, 0xF00}, {0xF20, 0xF29}, {0xF40, 0xF47}, {0xF49, 0xF6C}, {0xF88, 0xF8C},
    {0x1000, 0x102A}, {0x103F, 0x1049}, {0x1050, 0x1055}, {0x105A, 0x105D}, {0x1061, 0x1061},
    {0x1065, 0x1066}, {0x106E, 0x1070}, {0x1075, 0x1081}, {0x108E, 0x108E}, {0x1090, 0x1099},
    {0x10A0, 0x10C5}, {0x10C7, 0x10C7}, {0x10CD, 0x10CD}, {0x10D0, 0x10FA}, {0x10FC, 0x1248},
    {0x124A, 0x124D}, {0x1250, 0x1256}, {0x1258, 0x1258}, {0x125A, 0x125D}, {0x1260, 0x1288},
    {0x128A, 0x128D}, {0x1290, 0x12B0}, {0x12B2, 0x12B5}, {0x12B8, 0x12BE}, {0x12C0, 0x12C0},
    {0x12C2, 0x12C5}, {0x12C8, 0x12D6}, {0x12D8, 0x1310}, {0x1312, 0x1315}, {0x1318, 0x135A},
    {0x1380, 0x138F}, {0x13A0, 0x13F5}, {0x13F8, 0x13FD}, {0x1401, 0x166C}, {0x166F, 0x167F},
    {0x1681, 0x169A}, {0x16A0, 0x16EA}, {0x16F1, 0x16F8}, {0x1700, 0x1711}, {0x171F, 0x1731},
    {0x1740, 0x1751}, {0x1760, 0x176C}, {0x176E, 0x1770}, {0x1780, 0x17B3}, {0x17D7, 0x17D7},
    {0x17DC, 0x17DC}, {0x17E0, 0x17E9}, {0x1810, 0x1819}, {0x1820, 0x1878}, {0x1880, 0x1884},
    {0x1887, 0x18A8}, {0x18AA, 0x18AA}, {0x18B0, 0x18F5}, {0x1900, 0x191E}, {0x1946, 0x196D},
    {0x1970, 0x1974}, {0x1980, 0x19AB}, {0x19B0, 0x19C9}, {0x19D0, 0x19D9}, {0x1A00, 0x1A16},
    {0x1A20, 0x1A54}, {0x1A80, 0x1A89}, {0x1A90, 0x1A99}, {0x1AA7, 0x1AA7}, {0x1B05, 0x1B33},
    {0x1B45, 0x1B4C}, {0x1B50, 0x1B59}, {0x1B83, 0x1BA0}, {0x1BAE, 0x1BE5}, {0x1C00, 0x1C23},
    {0x1C40, 0x1C49}, {0x1C4D, 0x1C7D}, {0x1C80, 0x1C88}, {0x1C90, 0x1CBA}, {0x1CBD, 0x1CBF},
    {0x1CE9, 0x1CEC}, {0x1CEE, 0x1CF3}, {0x1CF5, 0x1CF6}, {0x1CFA, 0x1CFA}, {0x1D00, 0x1DBF},
    {0x1E00, 0x1F15}, {0x1F18, 0x1F1D}, {0x1F20, 0x1F45}, {0x1F48, 0x1F4D}, {0x1F50, 0x1F57},
    {0x1F59, 0x1F59}, {0x1F5B, 0x1F5B}, {0x1F5D, 0x1F5D}, {0x1F5F, 0x1F7D}, {0x1F80, 0x1FB4},
    {0x1FB6, 0x1FBC}, {0x1FBE, 0x1FBE}, {0x1FC2, 0x1FC4}, {0x1FC6, 0x1FCC}, {0x1FD0, 0x1FD3},
    {0x1FD6, 0x1FDB}, {0x1FE0, 0x1FEC}, {0x1FF2, 0x1FF4}, {0x1FF6, 0x1FFC}, {0x2071, 0x2071},
    {0x207F, 0x207F}, {0x2090, 0x209C}, {0x2102, 0x2102}, {0x2107, 0x2107}, {0x210A, 0x2113},
    {0x2115, 0x2115}, {0x2119, 0x211D}, {0x2124, 0x2124}, {0x2126, 0x2126}, {0x2128, 0x2128},
    {0x212A, 0x212D}, {0x212F, 0x2139}, {0x213C, 0x213F}, {0x2145, 0x2149}, {0x214E, 0x214E},
    {0x2183, 0x2184}, {0x2C00, 0x2CE4}, {0x2CEB, 0x2CEE}, {0x2CF2, 0x2CF3}, {0x2D00, 0x2D25},
    {0x2D27, 0x2D27}, {0x2D2D, 0x2D2D}, {0x2D30, 0x2D67}, {0x2D6F, 0x2D6F}, {0x2D80, 0x2D96},
    {0x2DA0, 0x2DA6}, {0x2DA8, 0x2DAE}, {0x2DB0, 0x2DB6}, {0x2DB8, 0x2DBE}, {0x2DC0, 0x2DC6},
    {0x2DC8, 0x2DCE}, {0x2DD0, 0x2DD6}, {0x2DD8, 0x2DDE}, {0x2E2F, 0x2E2F}, {0x3005, 0x3006},
    {0x3031, 0x3035}, {0x303B, 0x303C}, {0x3041, 0x3096}, {0x309D, 0x309F}, {0x30A1, 0x30FA},
    {0x30FC, 0x30FF}, {0x3105, 0x312F}, {0x3131, 0x318E}, {0x31A0, 0x31BF}, {0x31F0, 0x31FF},
    {0x3400, 0x4DBF}, {0x4E00, 0xA48C}, {0xA4D0, 0xA4FD}, {0xA500, 0xA60C}, {0xA610, 0xA62B},
    {0xA640, 0xA66E}, {0xA67F, 0xA69D}, {0xA6A0, 0xA6E5}, {0xA717, 0xA71F}, {0xA722, 0xA788},
    {0xA78B, 0xA7CA}, {0xA7D0, 0xA7D1}, {0xA7D3, 0xA7D3}, {0xA7D5, 0xA7D9}, {0xA7F2, 0xA801},
    {0xA803, 0xA805}, {0xA807, 0xA80A}, {0xA80C, 0xA822}, {0xA840, 0xA873}, {0xA882, 0xA8B3},
    {0xA8D0, 0xA8D9}, {0xA8F2, 0xA8F7}, {0xA8FB, 0xA8FB}, {0xA8FD, 0xA8FE}, {0xA900, 0xA925},
    {0xA930, 0xA946}, {0xA960, 0xA97C}, {0xA984, 0xA9B2}, {0xA9CF, 0xA9D9}, {0xA9E0, 0xA9E4},
    {0xA9E6, 0xA9FE}, {0xAA00, 0xAA28}, {0xAA40, 0xAA42}, {0xAA44, 0xAA4B}, {0xAA50, 0xAA59},
    {0xAA60, 0xAA76}, {0xAA7A, 0xAA7A}, {0xAA7E, 0xAAAF}, {0xAAB1, 0xAAB1}, {0xAAB5, 0xAAB6},
    {0xAAB9, 0xAABD}, {0xAAC0, 0xAAC0}, {0xAAC2, 0xAAC2}, {0xAADB, 0xAADD}, {0xAAE0, 0xAAEA},
    {0xAAF2, 0xAAF4}, {0xAB01, 0xAB06}, {0xAB09, 0xAB0E}, {0xAB11, 0xAB16}, {0xAB20, 0xAB26},
    {0xAB28, 0xAB2E}, {0xAB30, 0xAB5A}, {0xAB5C, 0xAB69}, {0xAB70, 0xABE2}, {0xABF0, 0xABF9},
    {0xAC00, 0xD7A3}, {0xD7B0, 0xD7C6}, {0xD7CB, 0xD7FB}, {0xF900, 0xFA6D}, {0xFA70, 0xFAD9},
    {0xFB00, 0xFB06}, {0xFB13, 0xFB17}, {0xFB1D, 0xFB1D}, {0xFB1F, 0xFB28}, {0xFB2A, 0xFB36},
    {0xFB38, 0xFB3C}, {0xFB3E, 0xFB3E}, {0xFB40, 0xFB41}, {0xFB43, 0xFB44}, {0xFB46, 0xFBB1},
    {0xFBD3, 0xFD3D}, {0xFD50, 0xFD8F}, {0xFD92, 0xFDC7}, {0xFDF0, 0xFDFB}, {0xFE70, 0xFE74},
    {0xFE76, 0xFEFC}, {0xFF10, 0xFF19}, {0xFF21, 0xFF3A}, {0xFF41, 0xFF5A}, {0xFF66, 0xFFBE},
    {0xFFC2, 0xFFC7}, {0xFFCA, 0xFFCF}, {0xFFD2, 0xFFD7}, {0xFFDA, 0xFFDC}, {0x10000, 0x1000B},
    {0x1000D, 0x10026}, {0x10028, 0x1003A}, {0x1003C, 0x1003D}, {0x1003F, 0x1004D}, {0x10050, 0x1005D},
    {0x10080, 0x100FA}, {0x10280, 0x1029C}, {0x102A0, 0x102D0}, {0x10300, 0x1031F}, {0x1032D, 0x10340},
    {0x10342, 0x10349}, {0x10350, 0x10375}, {0x10380, 0x1039D}, {0x103A0, 0x103C3}, {0x103C8, 0x103CF},
    {0x10400, 0x1049D}, {0x104A0, 0x104A9}, {0x104B0, 0x104D3}, {0x104D8, 0x104FB}, {0x10500, 0x10527},
    {0x10530, 0x10563}, {0x10570, 0x1057A}, {0x1057C, 0x1058A}, {0x1058C, 0x10592}, {0x10594, 0x10595},
    {0x10597, 0x105A1}, {0x105A3, 0x105B1}, {0x105B3, 0x105B9}, {0x105BB, 0x105BC}, {0x10600, 0x10736},
    {0x10740, 0x10755}, {0x10760, 0x10767}, {0x10780, 0x10785}, {0x10787, 0x107B0}, {0x107B2, 0x107BA},
    {0x10800, 0x10805}, {0x10808, 0x10808}, {0x1080A, 0x10835}, {0x10837, 0x10838}, {0x1083C, 0x1083C},
    {0x1083F, 0x10855}, {0x10860, 0x10876}, {0x10880, 0x1089E}, {0x108E0, 0x108F2}, {0x108F4, 0x108F5},
    {0x10900, 0x10915}, {0x10920, 0x10939}, {0x10980, 0x109B7}, {0x109BE, 0x109BF}, {0x10A00, 0x10A00},
    {0x10A10, 0x10A13}, {0x10A15, 0x10A17}, {0x10A19, 0x10A35}, {0x10A60, 0x10A7C}, {0x10A80, 0x10A9C},
    {0x10AC0, 0x10AC7}, {0x10AC9, 0x10AE4}, {0x10B00, 0x10B35}, {0x10B40, 0x10B55}, {0x10B60, 0x10B72},
    {0x10B80, 0x10B91}, {0x10C00, 0x10C48}, {0x10C80, 0x10CB2}, {0x10CC0, 0x10CF2}, {0x10D00, 0x10D23},
    {0x10D30, 0x10D39}, {0x10E80, 0x10EA9}, {0x10EB0, 0x10EB1}, {0x10F00, 0x10F1C}, {0x10F27, 0x10F27},
    {0x10F30, 0x10F45}, {0x10F70, 0x10F81}, {0x10FB0, 0x10FC4}, {0x10FE0, 0x10FF6}, {0x11003, 0x11037},
    {0x11066, 0x1106F}, {0x11071, 0x11072}, {0x11075, 0x11075}, {0x11083, 0x110AF}, {0x110D0, 0x110E8},
    {0x110F0, 0x110F9}, {0x11103, 0x11126}, {0x11136, 0x1113F}, {0x11144, 0x11144}, {0x11147, 0x11147},
    {0x11150, 0x11172}, {0x11176, 0x11176}, {0x11183, 0x111B2}, {0x111C1, 0x111C4}, {0x111D0, 0x111DA},
    {0x111DC, 0x111DC}, {0x11200, 0x11211}, {0x11213, 0x1122B}, {0x1123F, 0x11240}, {0x11280, 0x11286},
    {0x11288, 0x11288}, {0x1128A, 0x1128D}, {0x1128F, 0x1129D}, {0x1129F, 0x112A8}, {0x112B0, 0x112DE},
    {0x112F0, 0x112F9}, {0x11305, 0x1130C}, {0x1130F, 0x11310}, {0x11313, 0x11328}, {0x1132A, 0x11330},
    {0x11332, 0x11333}, {0x11335, 0x11339}, {0x1133D, 0x1133D}, {0x11350, 0x11350}, {0x1135D, 0x11361},
    {0x11400, 0x11434}, {0x11447, 0x1144A}, {0x11450, 0x11459}, {0x1145F, 0x11461}, {0x11480, 0x114AF},
    {0x114C4, 0x114C5}, {0x114C7, 0x114C7}, {0x114D0, 0x114D9}, {0x11580, 0x115AE}, {0x115D8, 0x115DB},
    {0x11600, 0x1162F}, {0x11644, 0x11644}, {0x11650, 0x11659}, {0x11680, 0x116AA}, {0x116B8, 0x116B8},
    {0x116C0, 0x116C9}, {0x11700, 0x1171A}, {0x11730, 0x11739}, {0x11740, 0x11746}, {0x11800, 0x1182B},
    {0x118A0, 0x118E9}, {0x118FF, 0x11906}, {0x11909, 0x11909}, {0x1190C, 0x11913}, {0x11915, 0x11916},
    {0x11918, 0x1192F}, {0x1193F, 0x1193F}, {0x11941, 0x11941}, {0x11950, 0x11959}, {0x119A0, 0x119A7},
    {0x119AA, 0x119D0}, {0x119E1, 0x119E1}, {0x119E3, 0x119E3}, {0x11A00, 0x11A00}, {0x11A0B, 0x11A32},
    {0x11A3A, 0x11A3A}, {0x11A50, 0x11A50}, {0x11A5C, 0x11A89}, {0x11A9D, 0x11A9D}, {0x11AB0, 0x11AF8},
    {0x11C00, 0x11C08}, {0x11C0A, 0x11C2E}, {0x11C40, 0x11C40}, {0x11C50, 0x11C59}, {0x11C72, 0x11C8F},
    {0x11D00, 0x11D06}, {0x11D08, 0x11D09}, {0x11D0B, 0x11D30}, {0x11D46, 0x11D46}, {0x11D50, 0x11D59},
    {0x11D60, 0x11D65}, {0x11D67, 0x11D68}, {0x11D6A, 0x11D89}, {0x11D98, 0x11D98}, {0x11DA0, 0x11DA9},
    {0x11EE0, 0x11EF2}, {0x11F02, 0x11F02}, {0x11F04, 0x11F10}, {0x11F12, 0x11F33}, {0x11F50, 0x11F59},
    {0x11FB0, 0x11FB0}, {0x12000, 0x12399}, {0x12480, 0x12543}, {0x12F90, 0x12FF0}, {0x13000, 0x1342F},
    {0x13441, 0x13446}, {0x14400, 0x14646}, {0x16800, 0x16A38}, {0x16A40, 0x16A5E}, {0x16A60, 0x16A69},
    {0x16A70, 0x16ABE}, {0x16AC0, 0x16AC9}, {0x16AD0, 0x16AED}, {0x16B00, 0x16B2F}, {0x16B40, 0x16B43},
    {0x16B50, 0x16B59}, {0x16B63, 0x16B77}, {0x16B7D, 0x16B8F}, {0x16E40, 0x16E7F}, {0x16F00, 0x16F4A},
    {0x16F50, 0x16F50}, {0x16F93, 0x16F9F}, {0x16FE0, 0x16FE1}, {0x16FE3, 0x16FE3}, {0x17000, 0x187F7},
    {0x18800, 0x18CD5}, {0x18D00, 0x18D08}, {0x1AFF0, 0x1AFF3}, {0x1AFF5, 0x1AFFB}, {0x1AFFD, 0x1AFFE},
    {0x1B000, 0x1B122}, {0x1B132, 0x1B132}, {0x1B150, 0x1B152}, {0x1B155, 0x1B155}, {0x1B164, 0x1B167},
    {0x1B170, 0x1B2FB}, {0x1BC00, 0x1BC6A}, {0x1BC70, 0x1BC7C}, {0x1BC80, 0x1BC88}, {0x1BC90, 0x1BC99},
    {0x1D400, 0x1D454}, {0x1D456, 0x1D49C}, {0x1D49E, 0x1D49F}, {0x1D4A2, 0x1D4A2}, {0x1D4A5, 0x1D4A6},
    {0x1D4A9, 0x1D4AC}, {0x1D4AE, 0x1D4B9}, {0x1D4BB, 0x1D4BB}, {0x1D4BD, 0x1D4C3}, {0x1D4C5, 0x1D505},
    {0x1D507, 0x1D50A}, {0x1D50D, 0x1D514}, {0x1D516, 0x1D51C}, {0x1D51E, 0x1D539}, {0x1D53B, 0x1D53E},
    {0x1D540, 0x1D544}, {0x1D546, 0x1D546}, {0x1D54A, 0x1D550}, {0x1D552, 0x1D6A5}, {0x1D6A8, 0x1D6C0},
    {0x1D6C2, 0x1D6DA}, {0x1D6DC, 0x1D6FA}, {0x1D6FC, 0x1D714}, {0x1D716, 0x1D734}, {0x1D736, 0x1D74E},
    {0x1D750, 0x1D76E}, {0x1D770, 0x1D788}, {0x1D78A, 0x1D7A8}, {0x1D7AA, 0x1D7C2}, {0x1D7C4, 0x1D7CB},
    {0x1D7CE, 0x1D7FF}, {0x1DF00, 0x1DF1E}, {0x1DF25, 0x1DF2A}, {0x1E030, 0x1E06D}, {0x1E100, 0x1E12C},
    {0x1E137, 0x1E13D}, {0x1E140, 0x1E149}, {0x1E14E, 0x1E14E}, {0x1E290, 0x1E2AD}, {0x1E2C0, 0x1E2EB},
    {0x1E2F0, 0x1E2F9}, {0x1E4D0, 0x1E4EB}, {0x1E4F0, 0x1E4F9}, {0x1E7E0, 0x1E7E6}, {0x1E7E8, 0x1E7EB},
    {0x1E7ED, 0x1E7EE}, {0x1E7F0, 0x1E7FE}, {0x1E800, 0x1E8C4}, {0x1E900, 0x1E943}, {0x1E94B, 0x1E94B},
    {0x1E950, 0x1E959}, {0x1EE00, 0x1EE03}, {0x1EE05, 0x1EE1F}, {0x1EE21, 0x1EE22}, {0x1EE24, 0x1EE24},
    {0x1EE27, 0x1EE27}, {0x1EE29, 0x1EE32}, {0x1EE34, 0x1EE37}, {0x1EE39, 0x1EE39}, {0x1EE3B, 0x1EE3B},
    {0x1EE42, 0x1EE42}, {0x1EE47, 0x1EE47}, {0x1EE49, 0x1EE49}, {0x1EE4B, 0x1EE4B}, {0x1EE4D, 0x1EE4F},
    {0x1EE51, 0x1EE52}, {0x1EE54, 0x1EE54}, {0x1EE57, 0x1EE57}, {0x1EE59, 0x1EE59}, {0x1EE5B, 0x1EE5B},
    {0x1EE5D, 0x1EE5D}, {0x1EE5F, 0x1EE5F}, {0x1EE61, 0x1EE62}, {0x1EE64, 0x1EE64}, {0x1EE67, 0x1EE6A},
    {0x1EE6C, 0x1EE72}, {0x1EE74, 0x1EE77}, {0x1EE79, 0x1EE7C}, {0x1EE7E, 0x1EE7E}, {0x1EE80, 0x1EE89},
    {0x1EE8B, 0x1EE9B}, {0x1EEA1, 0x1EEA3}, {0x1EEA5, 0x1EEA9}, {0x1EEAB, 0x1EEBB}, {0x1FBF0, 0x1FBF9},
    {0x20000, 0x2A6DF}, {0x2A700, 0x2B739}, {0x2B740, 0x2B81D}, {0x2B820, 0x2CEA1}, {0x2CEB0, 0x2EBE0},
    {0x2F800, 0x2FA1D}, {0x30000, 0x3134A}, {0x31350, 0x323AF},
};
constexpr CaseRange kCaseRanges[] = {
    {0xB5, 0xB5, 743, 0}, {0xC0, 0xD6, 0, 32}, {0xD8, 0xDE, 0, 32}, {0xE0, 0xF6, -32, 0},
    {0xF8, 0xFE, -32, 0}, {0xFF, 0xFF, 121, 0}, {0x100, 0x12F, kUpperLower, kUpperLower},
    {0x130, 0x130, 0, -199}, {0x131, 0x131, -232, 0}, {0x132, 0x137, kUpperLower, kUpperLower},
    {0x139, 0x148, kUpperLower, kUpperLower}, {0x14A, 0x177, kUpperLower, kUpperLower},
    {0x178, 0x178, 0, -121}, {0x179, 0x17E, kUpperLower, kUpperLower}, {0x17F, 0x17F, -300, 0},
    {0x180, 0x180, 195, 0}, {0x181, 0x181, 0, 210}, {0x182, 0x185, kUpperLower, kUpperLower},
    {0x186, 0x186, 0, 206}, {0x187, 0x188, kUpperLower, kUpperLower}, {0x189, 0x18A, 0, 205},
    {0x18B, 0x18C, kUpperLower, kUpperLower}, {0x18E, 0x18E, 0, 79}, {0x18F, 0x18F, 0, 202},
    {0x190, 0x190, 0, 203}, {0x191, 0x192, kUpperLower, kUpperLower}, {0x193, 0x193, 0, 205},
    {0x194, 0x194, 0, 207}, {0x195, 0x195, 97, 0}, {0x196, 0x196, 0, 211}, {0x197, 0x197, 0, 209},
    {0x198, 0x199, kUpperLower, kUpperLower}, {0x19A, 0x19A, 163, 0}, {0x19C, 0x19C, 0, 211},
    {0x19D, 0x19D, 0, 213}, {0x19E, 0x19E, 130, 0}, {0x19F, 0x19F, 0, 214},
    {0x1A0, 0x1A5, kUpperLower, kUpperLower}, {0x1A6, 0x1A6, 0, 218},
    {0x1A7, 0x1A8, kUpperLower, kUpperLower}, {0x1A9, 0x1A9, 0, 218},
    {0x1AC, 0x1AD, kUpperLower, kUpperLower}, {0x1AE, 0x1AE, 0, 218},
    {0x1AF, 0x1B0, kUpperLower, kUpperLower}, {0x1B1, 0x1B2, 0, 217},
    {0x1B3, 0x1B6, kUpperLower, kUpperLower}, {0x1B7, 0x1B7, 0, 219},
    {0x1B8, 0x1B9, kUpperLower, kUpperLower}, {0x1BC, 0x1BD, kUpperLower, kUpperLower}, {0x1BF, 0x1BF, 56, 0},
    {0x1C4, 0x1C4, 0, 2}, {0x1C5, 0x1C5, -1, 1}, {0x1C6, 0x1C6, -2, 0}, {0x1C7, 0x1C7, 0, 2},
    {0x1C8, 0x1C8, -1, 1}, {0x1C9, 0x1C9, -2, 0}, {0x1CA, 0x1CA, 0, 2}, {0x1CB, 0x1CB, -1, 1},
    {0x1CC, 0x1CC, -2, 0}, {0x1CD, 0x1DC, kUpperLower, kUpperLower}, {0x1DD, 0x1DD, -79, 0},
    {0x1DE, 0x1EF, kUpperLower, kUpperLower}, {0x1F1, 0x1F1, 0, 2}, {0x1F2, 0x1F2, -1, 1},
    {0x1F3, 0x1F3, -2, 0}, {0x1F4, 0x1F5, kUpperLower, kUpperLower}, {0x1F6, 0x1F6, 0, -97},
    {0x1F7, 0x1F7, 0, -56}, {0x1F8, 0x21F, kUpperLower, kUpperLower}, {0x220, 0x220, 0, -130},
    {0x222, 0x233, kUpperLower, kUpperLower}, {0x23A, 0x23A, 0, 10795},
    {0x23B, 0x23C, kUpperLower, kUpperLower}, {0x23D, 0x23D, 0, -163}, {0x23E, 0x23E, 0, 10792},
    {0x23F, 0x240, 10815, 0}, {0x241, 0x242, kUpperLower, kUpperLower}, {0x243, 0x243, 0, -195},
    {0x244, 0x244, 0, 69}, {0x245, 0x245, 0, 71}, {0x246, 0x24F, kUpperLower, kUpperLower},
    {0x250, 0x250, 10783, 0}, {0x251, 0x251, 10780, 0}, {0x252, 0x252, 10782, 0}, {0x253, 0x253, -210, 0},
    {0x254, 0x254, -206, 0}, {0x256, 0x257, -205, 0}, {0x259, 0x259, -202, 0}, {0x25B, 0x25B, -203, 0},
    {0x25C, 0x25C, 42319, 0}, {0x260, 0x260, -205, 0}, {0x261, 0x261, 42315, 0}, {0x263, 0x263, -207, 0},
    {0x265, 0x265, 42280, 0}, {0x266, 0x266, 42308, 0}, {0x268, 0x268, -209, 0}, {0x269, 0x269, -211, 0},
    {0x26A, 0x26A, 42308, 0}, {0x26B, 0x26B, 10743, 0}, {0x26C, 0x26C, 42305, 0}, {0x26F, 0x26F, -211, 0},
    {0x271, 0x271, 10749, 0}, {0x272, 0x272, -213, 0}, {0x275, 0x275, -214, 0}, {0x27D, 0x27D, 10727, 0},
    {0x280, 0x280, -218, 0}, {0x282, 0x282, 42307, 0}, {0x283, 0x283, -218, 0}, {0x287, 0x287, 42282, 0},
    {0x288, 0x288, -218, 0}, {0x289, 0x289, -69, 0}, {0x28A, 0x28B, -217, 0}, {0x28C, 0x28C, -71, 0},
    {0x292, 0x292, -219, 0}, {0x29D, 0x29D, 42261, 0}, {0x29E, 0x29E, 42258, 0}, {0x345, 0x345, 84, 0},
    {0x370, 0x373, kUpperLower, kUpperLower}, {0x376, 0x377, kUpperLower, kUpperLower},
    {0x37B, 0x37D, 130, 0}, {0x37F, 0x37F, 0, 116}, {0x386, 0x386, 0, 38}, {0x388, 0x38A, 0, 37},
    {0x38C, 0x38C, 0, 64}, {0x38E, 0x38F, 0, 63}, {0x391, 0x3A1, 0, 32}, {0x3A3, 0x3AB, 0, 32},
    {0x3AC, 0x3AC, -38, 0}, {0x3AD, 0x3AF, -37, 0}, {0x3B1, 0x3C1, -32, 0}, {0x3C2, 0x3C2, -31, 0},
    {0x3C3, 0x3CB, -32, 0}, {0x3CC, 0x3CC, -64, 0}, {0x3CD, 0x3CE, -63, 0}, {0x3CF, 0x3CF, 0, 8},
    {0x3D0, 0x3D0, -62, 0}, {0x3D1, 0x3D1, -57, 0}, {0x3D5, 0x3D5, -47, 0}, {0x3D6, 0x3D6, -54, 0},
    {0x3D7, 0x3D7, -8, 0}, {0x3D8, 0x3EF, kUpperLower, kUpperLower}, {0x3F0, 0x3F0, -86, 0},
    {0x3F1, 0x3F1, -80, 0}, {0x3F2, 0x3F2, 7, 0}, {0x3F3, 0x3F3, -116, 0}, {0x3F4, 0x3F4, 0, -60},
    {0x3F5, 0x3F5, -96, 0}, {0x3F7, 0x3F8, kUpperLower, kUpperLower}, {0x3F9, 0x3F9, 0, -7},
    {0x3FA, 0x3FB, kUpperLower, kUpperLower}, {0x3FD, 0x3FF, 0, -130}, {0x400, 0x40F, 0, 80},
    {0x410, 0x42F, 0, 32}, {0x430, 0x44F, -32, 0}, {0x450, 0x45F, -80, 0},
    {0x460, 0x481, kUpperLower, kUpperLower}, {0x48A, 0x4BF, kUpperLower, kUpperLower}, {0x4C0, 0x4C0, 0, 15},
    {0x4C1, 0x4CE, kUpperLower, kUpperLower}, {0x4CF, 0x4CF, -15, 0},
    {0x4D0, 0x52F, kUpperLower, kUpperLower}, {0x531, 0x556, 0, 48}, {0x561, 0x586, -48, 0},
    {0x10A0, 0x10C5, 0, 7264}, {0x10C7, 0x10C7, 0, 7264}, {0x10CD, 0x10CD, 0, 7264},
    {0x10D0, 0x10FA, 3008, 0}, {0x10FD, 0x10FF, 3008, 0}, {0x13A0, 0x13EF, 0, 38864}, {0x13F0, 0x13F5, 0, 8},
    {0x13F8, 0x13FD, -8, 0}, {0x1C80, 0x1C80, -6254, 0}, {0x1C81, 0x1C81, -6253, 0},
    {0x1C82, 0x1C82, -6244, 0}, {0x1C83, 0x1C84, -6242, 0}, {0x1C85, 0x1C85, -6243, 0},
    {0x1C86, 0x1C86, -6236, 0}, {0x1C87, 0x1C87, -6181, 0}, {0x1C88, 0x1C88, 35266, 0},
    {0x1C90, 0x1CBA, 0, -3008}, {0x1CBD, 0x1CBF, 0, -3008}, {0x1D79, 0x1D79, 35332, 0},
    {0x1D7D, 0x1D7D, 3814, 0}, {0x1D8E, 0x1D8E, 35384, 0}, {0x1E00, 0x1E95, kUpperLower, kUpperLower},
    {0x1E9B, 0x1E9B, -59, 0}, {0x1E9E, 0x1E9E, 0, -7615}, {0x1EA0, 0x1EFF, kUpperLower, kUpperLower},
    {0x1F00, 0x1F07, 8, 0}, {0x1F08, 0x1F0F, 0, -8}, {0x1F10, 0x1F15, 8, 0}, {0x1F18, 0x1F1D, 0, -8},
    {0x1F20, 0x1F27, 8, 0}, {0x1F28, 0x1F2F, 0, -8}, {0x1F30, 0x1F37, 8, 0}, {0x1F38, 0x1F3F, 0, -8},
    {0x1F40, 0x1F45, 8, 0}, {0x1F48, 0x1F4D, 0, -8}, {0x1F51, 0x1F51, 8, 0}, {0x1F53, 0x1F53, 8, 0},
    {0x1F55, 0x1F55, 8, 0}, {0x1F57, 0x1F57, 8, 0}, {0x1F59, 0x1F59, 0, -8}, {0x1F5B, 0x1F5B, 0, -8},
    {0x1F5D, 0x1F5D, 0, -8}, {0x1F5F, 0x1F5F, 0, -8}, {0x1F60, 0x1F67, 8, 0}, {0x1F68, 0x1F6F, 0, -8},
    {0x1F70, 0x1F71, 74, 0}, {0x1F72, 0x1F75, 86, 0}, {0x1F76, 0x1F77, 100, 0}, {0x1F78, 0x1F79, 128, 0},
    {0x1F7A, 0x1F7B, 112, 0}, {0x1F7C, 0x1F7D, 126, 0}, {0x1F80, 0x1F87, 8, 0}, {0x1F88, 0x1F8F, 0, -8},
    {0x1F90, 0x1F97, 8, 0}, {0x1F98, 0x1F9F, 0, -8}, {0x1FA0, 0x1FA7, 8, 0}, {0x1FA8, 0x1FAF, 0, -8},
    {0x1FB0, 0x1FB1, 8, 0}, {0x1FB3, 0x1FB3, 9, 0}, {0x1FB8, 0x1FB9, 0, -8}, {0x1FBA, 0x1FBB, 0, -74},
    {0x1FBC, 0x1FBC, 0, -9}, {0x1FBE, 0x1FBE, -7205, 0}, {0x1FC3, 0x1FC3, 9, 0}, {0x1FC8, 0x1FCB, 0, -86},
    {0x1FCC, 0x1FCC, 0, -9}, {0x1FD0, 0x1FD1, 8, 0}, {0x1FD8, 0x1FD9, 0, -8}, {0x1FDA, 0x1FDB, 0, -100},
    {0x1FE0, 0x1FE1, 8, 0}, {0x1FE5, 0x1FE5, 7, 0}, {0x1FE8, 0x1FE9, 0, -8}, {0x1FEA, 0x1FEB, 0, -112},
    {0x1FEC, 0x1FEC, 0, -7}, {0x1FF3, 0x1FF3, 9, 0}, {0x1FF8, 0x1FF9, 0, -128}, {0x1FFA, 0x1FFB, 0, -126},
    {0x1FFC, 0x1FFC, 0, -9}, {0x2126, 0x2126, 0, -7517}, {0x212A, 0x212A, 0, -8383},
    {0x212B, 0x212B, 0, -8262}, {0x2132, 0x2132, 0, 28}, {0x214E, 0x214E, -28, 0}, {0x2160, 0x216F, 0, 16},
    {0x2170, 0x217F, -16, 0}, {0x2183, 0x2184, kUpperLower, kUpperLower}, {0x24B6, 0x24CF, 0, 26},
    {0x24D0, 0x24E9, -26, 0}, {0x2C00, 0x2C2F, 0, 48}, {0x2C30, 0x2C5F, -48, 0},
    {0x2C60, 0x2C61, kUpperLower, kUpperLower}, {0x2C62, 0x2C62, 0, -10743}, {0x2C63, 0x2C63, 0, -3814},
    {0x2C64, 0x2C64, 0, -10727}, {0x2C65, 0x2C65, -10795, 0}, {0x2C66, 0x2C66, -10792, 0},
    {0x2C67, 0x2C6C, kUpperLower, kUpperLower}, {0x2C6D, 0x2C6D, 0, -10780}, {0x2C6E, 0x2C6E, 0, -10749},
    {0x2C6F, 0x2C6F, 0, -10783}, {0x2C70, 0x2C70, 0, -10782}, {0x2C72, 0x2C73, kUpperLower, kUpperLower},
    {0x2C75, 0x2C76, kUpperLower, kUpperLower}, {0x2C7E, 0x2C7F, 0, -10815},
    {0x2C80, 0x2CE3, kUpperLower, kUpperLower}, {0x2CEB, 0x2CEE, kUpperLower, kUpperLower},
    {0x2CF2, 0x2CF3, kUpperLower, kUpperLower}, {0x2D00, 0x2D25, -7264, 0}, {0x2D27, 0x2D27, -7264, 0},
    {0x2D2D, 0x2D2D, -7264, 0}, {0xA640, 0xA66D, kUpperLower, kUpperLower},
    {0xA680, 0xA69B, kUpperLower, kUpperLower}, {0xA722, 0xA72F, kUpperLower, kUpperLower},
    {0xA732, 0xA76F, kUpperLower, kUpperLower}, {0xA779, 0xA77C, kUpperLower, kUpperLower},
    {0xA77D, 0xA77D, 0, -35332}, {0xA77E, 0xA787, kUpperLower, kUpperLower},
    {0xA78B, 0xA78C, kUpperLower, kUpperLower}, {0xA78D, 0xA78D, 0, -42280},
    {0xA790, 0xA793, kUpperLower, kUpperLower}, {0xA794, 0xA794, 48, 0},
    {0xA796, 0xA7A9, kUpperLower, kUpperLower}, {0xA7AA, 0xA7AA, 0, -42308}, {0xA7AB, 0xA7AB, 0, -42319},
    {0xA7AC, 0xA7AC, 0, -42315}, {0xA7AD, 0xA7AD, 0, -42305}, {0xA7AE, 0xA7AE, 0, -42308},
    {0xA7B0, 0xA7B0, 0, -42258}, {0xA7B1, 0xA7B1, 0, -42282}, {0xA7B2, 0xA7B2, 0, -42261},
    {0xA7B3, 0xA7B3, 0, 928}, {0xA7B4, 0xA7C3, kUpperLower, kUpperLower}, {0xA7C4, 0xA7C4, 0, -48},
    {0xA7C5, 0xA7C5, 0, -42307}, {0xA7C6, 0xA7C6, 0, -35384}, {0xA7C7, 0xA7CA, kUpperLower, kUpperLower},
    {0xA7D0, 0xA7D1, kUpperLower, kUpperLower}, {0xA7D6, 0xA7D9, kUpperLower, kUpperLower},
    {0xA7F5, 0xA7F6, kUpperLower, kUpperLower}, {0xAB53, 0xAB53, -928, 0}, {0xAB70, 0xABBF, -38864, 0},
    {0xFF21, 0xFF3A, 0, 32}, {0xFF41, 0xFF5A, -32, 0}, {0x10400, 0x10427, 0, 40}, {0x10428, 0x1044F, -40, 0},
    {0x104B0, 0x104D3, 0, 40}, {0x104D8, 0x104FB, -40, 0}, {0x10570, 0x1057A, 0, 39},
    {0x1057C, 0x1058A, 0, 39}, {0x1058C, 0x10592, 0, 39}, {0x10594, 0x10595, 0, 39},
    {0x10597, 0x105A1, -39, 0}, {0x105A3, 0x105B1, -39, 0}, {0x105B3, 0x105B9, -39, 0},
    {0x105BB, 0x105BC, -39, 0}, {0x10C80, 0x10CB2, 0, 64}, {0x10CC0, 0x10CF2, -64, 0},
    {0x118A0, 0x118BF, 0, 32}, {0x118C0, 0x118DF, -32, 0}, {0x16E40, 0x16E5F, 0, 32},
    {0x16E60, 0x16E7F, -32, 0}, {0x1E900, 0x1E921, 0, 34}, {0x1E922, 0x1E943, -34, 0},
};

constexpr char32_t kRuneError = 0xFFFD;
constexpr char32_t kMaxRune = 0x10FFFF;

struct Rune {
  char32_t value;
  size_t width;
};

// utf8.DecodeRuneInString: an invalid or truncated sequence reads as (U+FFFD, 1), the end as (U+FFFD, 0).
Rune decode_rune(std::string_view s, size_t pos) {
  if (pos >= s.size()) return {kRuneError, 0};
  auto byte = [&](size_t i) { return static_cast<unsigned char>(s[pos + i]); };
  const unsigned char b0 = byte(0);
  if (b0 < 0x80) return {b0, 1};
  size_t n = 0;
  char32_t r = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2;
    r = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3;
    r = b0 & 0x0F;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;  // no surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4;
    r = b0 & 0x07;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  } else {
    return {kRuneError, 1};
  }
  if (s.size() - pos < n) return {kRuneError, 1};
  for (size_t i = 1; i < n; ++i) {
    const unsigned char c = byte(i);
    if (c < (i == 1 ? lo : 0x80) || c > (i == 1 ? hi : 0xBF)) return {kRuneError, 1};
    r = (r << 6) | (c & 0x3F);
  }
  return {r, n};
}

void encode_rune(char32_t r, std::string& out) {
  if (r > kMaxRune || (r >= 0xD800 && r <= 0xDFFF)) r = kRuneError;
  if (r < 0x80) {
    out += static_cast<char>(r);
  } else if (r < 0x800) {
    out += static_cast<char>(0xC0 | (r >> 6));
    out += static_cast<char>(0x80 | (r & 0x3F));
  } else if (r < 0x10000) {
    out += static_cast<char>(0xE0 | (r >> 12));
    out += static_cast<char>(0x80 | ((r >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (r & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (r >> 18));
    out += static_cast<char>(0x80 | ((r >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((r >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (r & 0x3F));
  }
}

// unicode.IsLetter(r) || unicode.IsDigit(r).
bool is_letter_or_digit(char32_t r) {
  if (r < 0x80) return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9');
  auto it = std::upper_bound(std::begin(kIdentRanges), std::end(kIdentRanges), r,
                             [](char32_t v, const RuneRange& range) { return v < range.lo; });
  return it != std::begin(kIdentRanges) && r <= std::prev(it)->hi;
}

// unicode.ToUpper / unicode.ToLower (simple case mapping).
char32_t change_case(char32_t r, bool upper) {
  if (r < 0x80) {
    if (upper && r >= 'a' && r <= 'z') return r - 32;
    if (!upper && r >= 'A' && r <= 'Z') return r + 32;
    return r;
  }
  auto it = std::upper_bound(std::begin(kCaseRanges), std::end(kCaseRanges), r,
                             [](char32_t v, const CaseRange& range) { return v < range.lo; });
  if (it == std::begin(kCaseRanges) || r > std::prev(it)->hi) return r;
  const CaseRange& range = *std::prev(it);
  const int32_t delta = upper ? range.upper : range.lower;
  if (delta == kUpperLower) return range.lo + (((r - range.lo) & ~char32_t{1}) | (upper ? 0 : 1));
  return static_cast<char32_t>(static_cast<int32_t>(r) + delta);
}

// strings.ToUpper / strings.ToLower: every rune mapped; invalid bytes come out as U+FFFD.
std::string map_case(std::string_view s, bool upper) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    Rune r = decode_rune(s, i);
    encode_rune(change_case(r.value, upper), out);
    i += r.width;
  }
  return out;
}

// toUpperFirst / toLowerFirst: the first rune mapped (U+FFFD if it is not valid UTF-8), the rest as is.
std::string map_first_case(std::string_view s, bool upper) {
  if (s.empty()) return {};
  Rune r = decode_rune(s, 0);
  std::string out;
  encode_rune(change_case(r.value, upper), out);
  out.append(s.substr(r.width));
  return out;
}

// string([]rune(s)) reversed: drone reverses runes to trim suffixes (invalid bytes become U+FFFD).
std::string reverse_runes(std::string_view s) {
  std::vector<char32_t> runes;
  runes.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    Rune r = decode_rune(s, i);
    runes.push_back(r.value);
    i += r.width;
  }
  std::string out;
  out.reserve(s.size());
  for (auto it = runes.rbegin(); it != runes.rend(); ++it) encode_rune(*it, out);
  return out;
}

// ---------------------------------------------------------------------------------------------------
// drone/envsubst's glob (its copy of Go's path.Match, changed so that a trailing or inner `*` also
// crosses '/'). Errors (ErrBadPattern) show up only when the matcher reaches the bad part.

enum class Glob { kNoMatch, kMatch, kBadPattern };

struct Chunk {
  std::string_view rest;
  bool ok = false;
  bool bad = false;
};

// getEsc: one (possibly escaped) character of a character class.
bool class_char(std::string_view& chunk, char32_t& r) {
  if (chunk.empty() || chunk[0] == '-' || chunk[0] == ']') return false;
  if (chunk[0] == '\\') {
    chunk.remove_prefix(1);
    if (chunk.empty()) return false;
  }
  Rune d = decode_rune(chunk, 0);
  r = d.value;
  chunk.remove_prefix(d.width);
  return !(d.value == kRuneError && d.width == 1) && !chunk.empty();
}

// matchChunk: whether `chunk` (no stars) matches the beginning of s, and what is left of s.
Chunk match_chunk(std::string_view chunk, std::string_view s) {
  while (!chunk.empty()) {
    if (s.empty()) return {};
    switch (chunk[0]) {
      case '[': {
        Rune r = decode_rune(s, 0);
        s.remove_prefix(r.width);
        chunk.remove_prefix(1);
        bool negated = false;
        if (!chunk.empty() && chunk[0] == '^') {
          negated = true;
          chunk.remove_prefix(1);
        }
        bool matched = false;
        for (int ranges = 0;; ++ranges) {
          if (!chunk.empty() && chunk[0] == ']' && ranges > 0) {
            chunk.remove_prefix(1);
            break;
          }
          char32_t lo = 0;
          if (!class_char(chunk, lo)) return {{}, false, true};
          char32_t hi = lo;
          if (chunk[0] == '-') {
            chunk.remove_prefix(1);
            if (!class_char(chunk, hi)) return {{}, false, true};
          }
          if (lo <= r.value && r.value <= hi) matched = true;
        }
        if (matched == negated) return {};
        break;
      }
      case '?':
        s.remove_prefix(decode_rune(s, 0).width);
        chunk.remove_prefix(1);
        break;
      case '\\':
        chunk.remove_prefix(1);
        if (chunk.empty()) return {{}, false, true};
        [[fallthrough]];
      default:
        if (chunk[0] != s[0]) return {};
        s.remove_prefix(1);
        chunk.remove_prefix(1);
    }
  }
  return {s, true, false};
}

Glob glob_match(std::string_view pattern, std::string_view name) {
  while (!pattern.empty()) {
    bool star = false;
    while (!pattern.empty() && pattern[0] == '*') {
      pattern.remove_prefix(1);
      star = true;
    }
    size_t end = 0;
    for (bool in_range = false; end < pattern.size(); ++end) {
      const char c = pattern[end];
      if (c == '\\') {
        if (end + 1 < pattern.size()) ++end;
      } else if (c == '[') {
        in_range = true;
      } else if (c == ']') {
        in_range = false;
      } else if (c == '*' && !in_range) {
        break;
      }
    }
    const std::string_view chunk = pattern.substr(0, end);
    pattern.remove_prefix(end);
    if (star && chunk.empty()) return Glob::kMatch;  // a trailing star takes the rest, '/' included
    Chunk m = match_chunk(chunk, name);
    if (m.ok && (m.rest.empty() || !pattern.empty())) {
      name = m.rest;
      continue;
    }
    if (m.bad) return Glob::kBadPattern;
    bool advanced = false;
    if (star) {
      for (size_t skip = 1; skip <= name.size() && !advanced; ++skip) {
        Chunk t = match_chunk(chunk, name.substr(skip));
        if (t.ok) {
          if (pattern.empty() && !t.rest.empty()) continue;  // the last chunk must end the name
          name = t.rest;
          advanced = true;
        } else if (t.bad) {
          return Glob::kBadPattern;
        }
      }
    }
    if (!advanced) return Glob::kNoMatch;
  }
  return name.empty() ? Glob::kMatch : Glob::kNoMatch;
}

// trimShortest / trimLongest: remove the shortest / longest non-empty prefix of s matching the pattern
// (prefixes are cut at bytes); a bad pattern leaves s as it is.
std::string trim_prefix(std::string_view s, std::string_view pattern, bool longest) {
  size_t cut = 0;
  for (size_t len = s.size(); len > 0; --len) {
    Glob g = glob_match(pattern, s.substr(0, len));
    if (g == Glob::kBadPattern) return std::string(s);
    if (g == Glob::kMatch) {
      cut = len;
      if (longest) break;
    }
  }
  return std::string(s.substr(cut));
}

std::string trim_suffix(std::string_view s, std::string_view pattern, bool longest) {
  // drone reverses the value *and the pattern* (so `[a-z]` becomes `]z-a[`), trims, reverses back.
  return reverse_runes(trim_prefix(reverse_runes(s), reverse_runes(pattern), longest));
}

// ---------------------------------------------------------------------------------------------------
// Go's strconv.Atoi and strings.Replace, as drone/envsubst uses them.

std::optional<int64_t> go_atoi(std::string_view s) {
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) return std::nullopt;
  constexpr uint64_t kLimit = uint64_t{1} << 63;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (v > (kLimit - digit) / 10) return std::nullopt;
    v = v * 10 + digit;
  }
  if (!negative && v == kLimit) return std::nullopt;
  return negative ? static_cast<int64_t>(0 - v) : static_cast<int64_t>(v);
}

// strings.Replace(s, old, repl, n), n < 0 for all; an empty `old` matches before every rune and at the end.
std::string go_replace(std::string_view s, std::string_view old, std::string_view repl, int64_t n) {
  if (old == repl || n == 0) return std::string(s);
  int64_t matches = 0;
  if (old.empty()) {
    for (size_t i = 0; i < s.size(); i += decode_rune(s, i).width) ++matches;
    ++matches;
  } else {
    for (size_t i = s.find(old); i != std::string_view::npos; i = s.find(old, i + old.size())) ++matches;
  }
  if (matches == 0) return std::string(s);
  if (n < 0 || matches < n) n = matches;
  std::string out;
  size_t start = 0;
  for (int64_t i = 0; i < n; ++i) {
    size_t j = start;
    if (old.empty()) {
      if (i > 0) j += decode_rune(s, start).width;
    } else {
      j = s.find(old, start);
    }
    out.append(s.substr(start, j - start));
    out.append(repl);
    start = j + old.size();
  }
  out.append(s.substr(start));
  return out;
}

// toSubstr: byte offsets; an offset or length that is not an integer leaves the value whole. A length
// that ends before the offset makes Go's slice expression panic (clusterctl crashes): `failed` is set.
std::string substring(std::string_view s, const std::vector<std::string>& args, bool& failed) {
  if (args.empty()) return std::string(s);
  const auto size = static_cast<int64_t>(s.size());
  std::optional<int64_t> offset = go_atoi(args[0]);
  if (!offset) return std::string(s);
  int64_t pos = *offset;
  if (pos < 0) pos = std::max<int64_t>(size + pos, 0);
  auto rest = [&] { return pos < size ? std::string(s.substr(static_cast<size_t>(pos))) : std::string(); };
  if (args.size() == 1) return rest();
  std::optional<int64_t> length = go_atoi(args[1]);
  if (!length) return std::string(s);
  // Go's int arithmetic wraps.
  const auto end = static_cast<int64_t>(static_cast<uint64_t>(pos) + static_cast<uint64_t>(*length));
  if (end >= size) return rest();
  if (end < pos) {
    failed = true;
    return {};
  }
  return std::string(s.substr(static_cast<size_t>(pos), static_cast<size_t>(end - pos)));
}

// ---------------------------------------------------------------------------------------------------
// drone/envsubst's scanner. It reads runes under a mode (which tokens it may return) and an accept
// function (which runes an identifier token takes, given its byte offset in the token). Go's rune 0
// is its end-of-input marker, so a NUL byte ends the input too. Escapes drop their first character and
// keep the second one unexamined: `$$` (everywhere an escape mode is on), `\/` and `\\` (inside `${}`).

using Accept = bool (*)(char32_t r, size_t offset);

constexpr char32_t kEndOfInput = 0;

enum class Token { kIllegal, kEof, kIdent, kLbrack, kRbrack };

enum Mode : unsigned { kModeIdent = 1, kModeLbrack = 2, kModeRbrack = 4, kModeEscape = 8 };
enum Escapes : unsigned { kEscapeDollar = 1, kEscapeBackslash = 2, kEscapeAll = 3 };

bool accept_rune(char32_t, size_t) { return true; }
bool accept_ident(char32_t r, size_t) { return is_letter_or_digit(r) || r == '_'; }
bool accept_colon(char32_t r, size_t) { return r == ':'; }
bool accept_one_hash(char32_t r, size_t i) { return r == '#' && i == 1; }
bool accept_not_closing(char32_t r, size_t) { return r != '}'; }
bool accept_hash_func(char32_t r, size_t i) { return r == '#' && i < 3; }
bool accept_percent_func(char32_t r, size_t i) { return r == '%' && i < 3; }
bool accept_default_func(char32_t r, size_t i) {
  return (i == 1 && r == ':') || (i == 2 && (r == '=' || r == '-' || r == '?' || r == '+'));
}
bool accept_replace_func(char32_t r, size_t i) {
  return (i == 1 && r == '/') || (i == 2 && (r == '/' || r == '#' || r == '%'));
}
bool accept_one_equal(char32_t r, size_t i) { return i == 1 && r == '='; }
bool accept_one_colon(char32_t r, size_t i) { return i == 1 && r == ':'; }
bool reject_colon_close(char32_t r, size_t) { return r != ':' && r != '}'; }
bool accept_slash(char32_t r, size_t) { return r == '/'; }
bool accept_not_slash(char32_t r, size_t) { return r != '/'; }
bool accept_casing_func(char32_t r, size_t i) { return (r == ',' || r == '^') && i < 3; }

class Scanner {
 public:
  explicit Scanner(std::string_view buf) : m_buf(buf) {}

  void configure(Accept accept, unsigned mode) {
    m_accept = accept;
    m_mode = mode;
  }
  void set_mode(unsigned mode) { m_mode = mode; }
  void set_escapes(unsigned escapes) { m_escapes = escapes; }
  size_t start() const { return m_start; }

  char32_t read() {
    if (m_pos >= m_buf.size()) {
      m_width = 0;
      return kEndOfInput;
    }
    Rune r = decode_rune(m_buf, m_pos);
    m_width = r.width;
    m_pos += r.width;
    return r.value;
  }
  // Steps back by the width of the last rune *read* (peek counts), as drone's scanner does.
  void unread() { m_pos -= m_width; }
  char32_t peek() {
    char32_t r = read();
    unread();
    return r;
  }

  Token scan() {
    m_start = m_pos;
    m_segment = m_pos;
    m_skipped = 0;
    m_text.clear();
    char32_t r = read();
    if (r == kEndOfInput) return Token::kEof;
    if (scan_lbrack(r)) return Token::kLbrack;
    if ((m_mode & kModeRbrack) && r == '}') return Token::kRbrack;
    if (scan_ident(r)) return Token::kIdent;
    return Token::kIllegal;
  }

  // The identifier token just scanned, escapes applied.
  std::string text() const {
    std::string out = m_text;
    out.append(m_buf.substr(m_segment, m_pos - m_segment));
    return out;
  }

 private:
  // The offset drone's accept functions see: bytes from the token start in its (escape-shortened) buffer.
  size_t offset() const { return m_pos - m_start - m_skipped; }

  bool scan_lbrack(char32_t r) {
    if (!(m_mode & kModeLbrack) || r != '$') return false;
    if (read() == '{') return true;
    unread();
    return false;
  }

  bool scan_escaped(char32_t r) {
    if (!(m_mode & kModeEscape)) return false;
    if (r == '$' && (m_escapes & kEscapeDollar) && peek() == '$') return true;
    if (r == '\\' && (m_escapes & kEscapeBackslash)) {
      char32_t next = peek();
      return next == '/' || next == '\\';
    }
    return false;
  }

  // Drops the escape character just read; the (one-byte) character after it joins the token unread.
  void skip() {
    m_text.append(m_buf.substr(m_segment, m_pos - 1 - m_segment));
    m_segment = m_pos;
    m_pos += 1;
    m_skipped += 1;
  }

  bool scan_ident(char32_t r) {
    if (!(m_mode & kModeIdent)) return false;
    if (scan_escaped(r)) {
      skip();
    } else if (!m_accept(r, offset())) {
      return false;
    }
    for (;;) {
      r = read();
      if (r == kEndOfInput) {
        unread();
        break;
      }
      if (scan_lbrack(r)) {  // a "${" ends the token
        unread();
        unread();
        break;
      }
      if (scan_escaped(r)) {
        skip();
        continue;
      }
      if (!m_accept(r, offset())) {
        unread();
        break;
      }
    }
    return true;
  }

  std::string_view m_buf;
  size_t m_pos = 0;
  size_t m_start = 0;
  size_t m_width = 0;
  Accept m_accept = accept_rune;
  unsigned m_mode = 0;
  unsigned m_escapes = kEscapeDollar;
  std::string m_text;    // the token so far, up to m_segment, without escape characters
  size_t m_segment = 0;  // where the not yet copied part of the token starts
  size_t m_skipped = 0;  // escape characters dropped from the token
};

// ---------------------------------------------------------------------------------------------------
// drone/envsubst's parser: text and `${...}` function nodes, whose arguments are text or nested
// expressions.

struct Node {
  bool func = false;
  std::string text;   // text node: the text
  std::string param;  // function node: the variable
  std::string op;     // its operator: "" for ${V}, ":=", ":-", "=", "#", "##", "/#", "^^", ":", ...
  std::vector<Node> args;
  size_t offset = 0;  // a top-level expression: where its "${" starts
};

enum class Syntax {
  kOk,
  kBadSubstitution,
  kMissingClosingBrace,
  kVariableName,
  kFuncSubstitution,
  kDefaultFunction,
  kTooDeep,
};

// drone/envsubst's error texts, which clusterctl prints.
const char* describe(Syntax s) {
  switch (s) {
    case Syntax::kOk:
      return "ok";
    case Syntax::kBadSubstitution:
      return "bad substitution";
    case Syntax::kMissingClosingBrace:
      return "missing closing brace";
    case Syntax::kVariableName:
      return "unable to parse variable name";
    case Syntax::kFuncSubstitution:
      return "unable to parse substitution within function";
    case Syntax::kDefaultFunction:
      return "unable to parse default function";
    case Syntax::kTooDeep:
      return "expressions nested too deeply";
  }
  return "bad substitution";
}

// Go grows its stack; a C++ recursion is bounded instead (only absurd input nests this deep).
constexpr int kMaxDepth = 500;

class Parser {
 public:
  explicit Parser(std::string_view text) : m_scanner(text) {}

  Syntax parse(std::vector<Node>& nodes) {
    for (;;) {
      m_scanner.configure(accept_rune, kModeIdent | kModeLbrack | kModeEscape);
      m_scanner.set_escapes(kEscapeDollar);
      switch (m_scanner.scan()) {
        case Token::kEof:
          return Syntax::kOk;
        case Token::kIdent: {
          Node node;
          node.text = m_scanner.text();
          nodes.push_back(std::move(node));
          break;
        }
        case Token::kLbrack: {
          m_expression = m_scanner.start();
          Node node;
          node.func = true;
          node.offset = m_expression;
          if (Syntax s = func(node, 0); s != Syntax::kOk) return s;
          nodes.push_back(std::move(node));
          break;
        }
        default:
          return Syntax::kBadSubstitution;
      }
    }
  }

  // Where the top-level expression being parsed starts.
  size_t expression() const { return m_expression; }

 private:
  // After "${".
  Syntax func(Node& node, int depth) {
    if (depth > kMaxDepth) return Syntax::kTooDeep;
    m_scanner.set_escapes(kEscapeAll);
    if (m_scanner.peek() == '#') return length_func(node);
    m_scanner.configure(accept_ident, kModeIdent);
    if (m_scanner.scan() != Token::kIdent) return Syntax::kVariableName;
    node.param = m_scanner.text();
    switch (m_scanner.peek()) {
      case ':':
        return default_or_substr(node, depth);
      case '=':
        return default_func(node, depth);
      case ',':
      case '^':
        return casing_func(node);
      case '/':
        return replace_func(node, depth);
      case '#':
        return remove_func(node, accept_hash_func, depth);
      case '%':
        return remove_func(node, accept_percent_func, depth);
      default:
        break;
    }
    m_scanner.configure(accept_ident, kModeRbrack);
    return m_scanner.scan() == Token::kRbrack ? Syntax::kOk : Syntax::kMissingClosingBrace;
  }

  // One argument: a nested expression or a text token.
  Syntax param(Accept accept, unsigned mode, std::vector<Node>& args, int depth) {
    m_scanner.configure(accept, mode | kModeLbrack);
    Node arg;
    switch (m_scanner.scan()) {
      case Token::kLbrack:
        arg.func = true;
        if (Syntax s = func(arg, depth + 1); s != Syntax::kOk) return s;
        break;
      case Token::kIdent:
        arg.text = m_scanner.text();
        break;
      default:
        return Syntax::kFuncSubstitution;
    }
    args.push_back(std::move(arg));
    return Syntax::kOk;
  }

  // The operator token ("#", ":=", "//", ...).
  Syntax scan_operator(Accept accept, Node& node, Syntax failure = Syntax::kBadSubstitution) {
    m_scanner.configure(accept, kModeIdent);
    if (m_scanner.scan() != Token::kIdent) return failure;
    node.op = m_scanner.text();
    return Syntax::kOk;
  }

  Syntax close() {
    m_scanner.set_mode(kModeRbrack);
    return m_scanner.scan() == Token::kRbrack ? Syntax::kOk : Syntax::kBadSubstitution;
  }

  // ${#V}
  Syntax length_func(Node& node) {
    if (Syntax s = scan_operator(accept_one_hash, node); s != Syntax::kOk) return s;
    m_scanner.configure(accept_ident, kModeIdent);
    if (m_scanner.scan() != Token::kIdent) return Syntax::kBadSubstitution;
    node.param = m_scanner.text();
    return close();
  }

  Syntax default_or_substr(Node& node, int depth) {
    m_scanner.read();
    char32_t next = m_scanner.peek();
    // This steps back by the width of the peeked rune, not of the ':' (so a multi-byte character after
    // the ':' fails the expression, as it does in drone).
    m_scanner.unread();
    if (next == '=' || next == '-' || next == '?' || next == '+') return default_func(node, depth);
    return substr_func(node, depth);
  }

  // ${V:pos} ${V:pos:len}; any run of ':' separates the two.
  Syntax substr_func(Node& node, int depth) {
    if (Syntax s = scan_operator(accept_one_colon, node); s != Syntax::kOk) return s;
    if (Syntax s = param(reject_colon_close, kModeIdent, node.args, depth); s != Syntax::kOk) return s;
    m_scanner.configure(accept_colon, kModeIdent | kModeRbrack);
    switch (m_scanner.scan()) {
      case Token::kRbrack:
        return Syntax::kOk;
      case Token::kIdent:
        break;
      default:
        return Syntax::kBadSubstitution;
    }
    if (Syntax s = param(accept_not_closing, kModeIdent, node.args, depth); s != Syntax::kOk) return s;
    return close();
  }

  // ${V#p} ${V##p} ${V%p} ${V%%p}: one non-empty argument.
  Syntax remove_func(Node& node, Accept accept, int depth) {
    if (Syntax s = scan_operator(accept, node); s != Syntax::kOk) return s;
    if (Syntax s = param(accept_not_closing, kModeIdent, node.args, depth); s != Syntax::kOk) return s;
    return close();
  }

  // ${V/p/r} ${V//p/r} ${V/#p/r} ${V/%p/r}: the pattern runs to the next '/' (a '}' does not end it),
  // the replacement (optional) to the next '}'; both take the escapes `$$`, `\/` and `\\`.
  Syntax replace_func(Node& node, int depth) {
    if (Syntax s = scan_operator(accept_replace_func, node); s != Syntax::kOk) return s;
    Syntax s = param(accept_not_slash, kModeIdent | kModeEscape, node.args, depth);
    if (s != Syntax::kOk) return s;
    m_scanner.configure(accept_slash, kModeIdent);  // the delimiter: any run of '/'
    if (m_scanner.scan() != Token::kIdent) return Syntax::kBadSubstitution;
    if (m_scanner.peek() == '}') return close();
    s = param(accept_not_closing, kModeIdent | kModeEscape, node.args, depth);
    if (s != Syntax::kOk) return s;
    return close();
  }

  Syntax default_func(Node& node, int depth) {
    Accept accept = m_scanner.peek() == '=' ? accept_one_equal : accept_default_func;
    if (Syntax s = scan_operator(accept, node, Syntax::kDefaultFunction); s != Syntax::kOk) return s;
    while (m_scanner.peek() != '}') {
      if (Syntax s = param(accept_not_closing, kModeIdent, node.args, depth); s != Syntax::kOk) return s;
    }
    return close();
  }

  // ${V^} ${V^^} ${V,} ${V,,} (and the mixed ${V^,} ${V,^}, which change nothing).
  Syntax casing_func(Node& node) {
    if (Syntax s = scan_operator(accept_casing_func, node); s != Syntax::kOk) return s;
    return close();
  }

  Scanner m_scanner;
  size_t m_expression = 0;
};

// ---------------------------------------------------------------------------------------------------
// clusterctl's convertLegacyVars: `${ VAR}`, `${VAR }` and `${ VAR }` (whitespace being Go's \s,
// [\t\n\f\r ], and VAR [A-Za-z0-9_$]+) lose their whitespace before anything is parsed.

struct Source {
  std::string text;
  // Where an expression lost line breaks: (offset in `text` of its "${", line breaks removed).
  std::vector<std::pair<size_t, size_t>> joined;
};

bool is_go_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'; }
bool is_legacy_name(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '$';
}

Source normalize(std::string_view in) {
  Source out;
  out.text.reserve(in.size());
  size_t copied = 0;
  for (size_t at = in.find("${"); at != std::string_view::npos;) {
    size_t i = at + 2;
    const size_t lead = i;
    while (i < in.size() && is_go_space(in[i])) ++i;
    const size_t name = i;
    while (i < in.size() && is_legacy_name(in[i])) ++i;
    const size_t name_end = i;
    while (i < in.size() && is_go_space(in[i])) ++i;
    const bool spaced = name > lead || i > name_end;
    if (name_end == name || !spaced || i >= in.size() || in[i] != '}') {
      at = in.find("${", at + 1);
      continue;
    }
    out.text.append(in.substr(copied, at - copied));
    const auto breaks = static_cast<size_t>(std::count(in.begin() + at, in.begin() + i, '\n'));
    if (breaks > 0) out.joined.emplace_back(out.text.size(), breaks);
    out.text.append("${").append(in.substr(name, name_end - name)).append("}");
    copied = i + 1;
    at = in.find("${", copied);
  }
  out.text.append(in.substr(copied));
  return out;
}

// The 1-based line of the original text where `offset` (in the normalized text) is.
size_t line_of(const Source& src, size_t offset) {
  size_t line = 1 + static_cast<size_t>(std::count(src.text.begin(), src.text.begin() + offset, '\n'));
  for (const auto& [at, breaks] : src.joined) {
    if (at >= offset) break;
    line += breaks;
  }
  return line;
}

// `${FOO:=ba`: the start of an expression, for messages (one line, at most 40 bytes).
std::string excerpt(const Source& src, size_t offset) {
  std::string_view rest = std::string_view(src.text).substr(offset);
  size_t n = std::min<size_t>({rest.size(), rest.find('\n'), 40});
  while (n > 0 && n < rest.size() && (static_cast<unsigned char>(rest[n]) & 0xC0) == 0x80) --n;
  return std::string(rest.substr(0, n)) + (n < rest.size() && rest[n] != '\n' ? "..." : "");
}

Result<std::vector<Node>> parse(const Source& src, std::string_view source) {
  Parser parser(src.text);
  std::vector<Node> nodes;
  Syntax s = parser.parse(nodes);
  if (s == Syntax::kOk) return nodes;
  return Error(std::string(source) + ": line " + std::to_string(line_of(src, parser.expression())) +
                   ": cannot parse \"" + excerpt(src, parser.expression()) + "\": " + describe(s),
               ExitCode::failure, "write `$${` for a literal `${`");
}

// clusterctl's inspectVariables: the top-level expressions only (a variable nested in another's
// argument is neither listed nor required), each name once, its first occurrence deciding. clusterctl
// joins the arguments (`${X}` for a nested expression) into a "default" and counts a non-empty one:
// so ${V:=} has none, while any argument counts, also those of ${V:1}, ${V#p} or ${V/#p/r}.
std::vector<Variable> inspect(const std::vector<Node>& nodes) {
  std::vector<Variable> out;
  std::unordered_set<std::string_view> seen;
  for (const Node& node : nodes) {
    if (!node.func || !seen.insert(node.param).second) continue;
    bool has_default = std::any_of(node.args.begin(), node.args.end(),
                                   [](const Node& arg) { return arg.func || !arg.text.empty(); });
    out.push_back({node.param, has_default});
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// drone/envsubst's evaluation. Arguments are expanded first, then the variable is looked up (unset
// reads as empty), then the operator's function applies (an unknown operator keeps the value, or takes
// the joined arguments when it is empty: the default).

class Evaluator {
 public:
  explicit Evaluator(const Lookup& lookup) : m_lookup(lookup) {}

  bool failed() const { return m_failed; }

  void eval(const Node& node, std::string& out) {
    if (!node.func) {
      out += node.text;
      return;
    }
    std::vector<std::string> args;
    args.reserve(node.args.size());
    for (const Node& arg : node.args) {
      std::string value;
      eval(arg, value);
      args.push_back(std::move(value));
    }
    std::optional<std::string> found = m_lookup(node.param);
    out += apply(node.op, found ? *found : std::string(), args);
  }

 private:
  std::string apply(const std::string& op, const std::string& v, const std::vector<std::string>& args) {
    auto arg = [&](size_t i) { return std::string_view(args[i]); };
    if (op == ",") return map_first_case(v, false);
    if (op == ",,") return map_case(v, false);
    if (op == "^") return map_first_case(v, true);
    if (op == "^^") return map_case(v, true);
    if (op == "#" && args.empty()) return std::to_string(v.size());  // bytes, not characters
    if (op == "#" || op == "##") return args.empty() ? v : trim_prefix(v, arg(0), op == "##");
    if (op == "%" || op == "%%") return args.empty() ? v : trim_suffix(v, arg(0), op == "%%");
    if (op == ":") return substring(v, args, m_failed);
    if (op == "/" || op == "//") {  // literal patterns, not globs
      if (args.empty()) return v;
      return go_replace(v, arg(0), args.size() > 1 ? arg(1) : std::string_view(), op == "/" ? 1 : -1);
    }
    if (op == "/#") {
      if (args.size() != 2 || v.compare(0, args[0].size(), args[0]) != 0) return v;
      return args[1] + v.substr(args[0].size());
    }
    if (op == "/%") {
      if (args.size() != 2 || v.size() < args[0].size() ||
          v.compare(v.size() - args[0].size(), args[0].size(), args[0]) != 0) {
        return v;
      }
      return v.substr(0, v.size() - args[0].size()) + args[1];
    }
    // "", ":=", ":-", "=", and also ":?", ":+" and ",^"/"^,": the default when the value is empty.
    if (!v.empty() || args.empty()) return v;
    std::string joined;
    for (const std::string& a : args) joined += a;
    return joined;
  }

  const Lookup& m_lookup;
  bool m_failed = false;
};

}  // namespace

Result<std::vector<Variable>> variables(std::string_view text, std::string_view source) {
  Source src = normalize(text);
  Result<std::vector<Node>> nodes = parse(src, source);
  if (!nodes) return nodes.error();
  return inspect(*nodes);
}

Result<std::string> substitute(std::string_view text, std::string_view source, const Lookup& lookup) {
  Source src = normalize(text);
  Result<std::vector<Node>> nodes = parse(src, source);
  if (!nodes) return nodes.error();

  std::vector<std::string> missing;
  for (const Variable& v : inspect(*nodes)) {
    if (!v.has_default && !lookup(v.name)) missing.push_back(v.name);
  }
  if (!missing.empty()) {
    std::sort(missing.begin(), missing.end());  // clusterctl sorts the names in this message
    std::string names;
    for (const std::string& name : missing) names += (names.empty() ? "" : ", ") + name;
    return Error(std::string(source) + ": value for variables [" + names + "] is not set", ExitCode::failure,
                 "set them in the environment");
  }

  std::string out;
  out.reserve(src.text.size());
  Evaluator evaluator(lookup);
  for (const Node& node : *nodes) {
    evaluator.eval(node, out);
    if (evaluator.failed()) {
      return Error(std::string(source) + ": line " + std::to_string(line_of(src, node.offset)) + ": \"" +
                   excerpt(src, node.offset) +
                   "\": the substring's length ends before its offset (clusterctl crashes on this)");
    }
  }
  return out;
}

}  // namespace kurator::envsubst
