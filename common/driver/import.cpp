// The verb `import ARCHIVE NAME` (lab 05): an image from a tar into the store. The tar is
// a root filesystem, a `docker save` archive or an OCI image layout, plain or compressed;
// the store (image.hpp, given) tells which and checks it, lab 05's walk extracts it.
#include <fmt/format.h>

#include <cstdio>
#include <memory>

#include "mydocker/error.hpp"
#include "mydocker/image.hpp"
#include "mydocker/overlay.hpp"
#include "mydocker/signals.hpp"
#include "verbs.hpp"

namespace mydocker::driver {
namespace {

/// A SIGINT, SIGTERM or SIGHUP stopped the import: what it had extracted is gone. Exits
/// 128+N, as if the signal had killed it.
class ImportInterrupted : public Error {
  public:
    explicit ImportInterrupted(int signal)
        : Error(fmt::format("import interrupted by {} (nothing was added to the store)",
                            signals::name(signal))),
          signal_(signal) {}
    int exitCode() const noexcept override { return 128 + signal_; }

  private:
    int signal_;
};

}  // namespace

Verb addImportVerb(CLI::App& app, const Globals& globals) {
    CLI::App* command = app.add_subcommand(
        "import", "Import an image: a root filesystem tar, a docker save or an OCI archive");
    struct Arguments {
        std::string archive;
        std::string name;
    };
    auto args = std::make_shared<Arguments>();
    command->add_option("archive", args->archive, "The tar (plain, gzip, zstd, xz or bzip2)")
        ->required();
    command->add_option("name", args->name, "The image's name, REPOSITORY[:TAG]")->required();
    return Verb{command, [args, &globals] {
                    // The name first: a bad one is refused before anything is read.
                    const image::Reference reference = image::parseReference(args->name);
                    image::Image image;
                    try {
                        image = image::importArchive(globals.root, args->archive, reference,
                                                     overlay::extractLayer);
                    } catch (const signals::Interrupted& e) {
                        throw ImportInterrupted(e.signal());
                    }
                    // As `docker import` does: the new image's id.
                    std::fputs(fmt::format("{}\n", image.id).c_str(), stdout);
                    return 0;
                }};
}

}  // namespace mydocker::driver
