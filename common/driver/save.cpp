// The verb `save IMAGE -o FILE [--format oci-archive|docker-archive]` (lab 08): an image
// of the store as an archive that Podman, Docker, skopeo and this kit's `import` read.
// All of it is given (image_archive.hpp).
#include <fmt/format.h>

#include <memory>
#include <string>

#include "mydocker/error.hpp"
#include "mydocker/image.hpp"
#include "mydocker/image_archive.hpp"
#include "verbs.hpp"

namespace mydocker::driver {

Verb addSaveVerb(CLI::App& app, const Globals& globals) {
    CLI::App* command = app.add_subcommand("save", "Save an image to a tar archive");
    struct Arguments {
        std::string image;
        std::string output;
        std::string format = "oci-archive";
    };
    auto args = std::make_shared<Arguments>();
    command->add_option("image", args->image, "The image, REPOSITORY[:TAG]")->required();
    command->add_option("-o,--output", args->output, "The archive to write")->required();
    command
        ->add_option("--format", args->format,
                     "oci-archive (an OCI image layout, as podman save) or docker-archive")
        ->capture_default_str();
    return Verb{command, [args, &globals] {
                    const image::ArchiveFormat format = image::parseArchiveFormat(args->format);
                    const image::Reference reference = image::parseReference(args->image);
                    if (args->output.empty()) throw UsageError("invalid -o \"\" (a file to write)");
                    const image::Image image = image::loadImage(globals.root, reference);
                    image::saveImage(globals.root, image, args->output, format);
                    return 0;
                }};
}

}  // namespace mydocker::driver
