// The verb `images` (lab 05): the images of the store, as `docker images` lists them.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <string>
#include <vector>

#include "mydocker/image.hpp"
#include "verbs.hpp"

namespace mydocker::driver {
namespace {

/// docker's table: columns padded to their widest cell, three spaces apart.
constexpr std::size_t kColumnGap = 3;
constexpr std::size_t kColumns = 5;
/// `docker images` shows the first 12 hex digits of an id.
constexpr std::size_t kShortIdLength = 12;

using Row = std::array<std::string, kColumns>;

std::string renderTable(const std::vector<Row>& rows) {
    std::array<std::size_t, kColumns> widths{};
    for (const Row& row : rows) {
        for (std::size_t i = 0; i < kColumns; ++i) widths[i] = std::max(widths[i], row[i].size());
    }
    std::string table;
    for (const Row& row : rows) {
        std::string line;
        for (std::size_t i = 0; i < kColumns; ++i) {
            line += row[i];
            if (i + 1 < kColumns) line += std::string(widths[i] - row[i].size() + kColumnGap, ' ');
        }
        table += line + "\n";
    }
    return table;
}

}  // namespace

Verb addImagesVerb(CLI::App& app, const Globals& globals) {
    CLI::App* command = app.add_subcommand("images", "List images");
    return Verb{
        command, [&globals] {
            std::vector<Row> rows = {{"REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"}};
            for (const image::Image& image : image::listImages(globals.root)) {
                const std::string hex = image::digestHex(image.id);
                rows.push_back({image.reference.repository, image.reference.tag,
                                hex.substr(0, kShortIdLength), image::humanAge(image.created),
                                image::humanSize(image.size)});
            }
            std::fputs(renderTable(rows).c_str(), stdout);
            return 0;
        }};
}

}  // namespace mydocker::driver
