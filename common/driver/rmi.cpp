// The verb `rmi NAME` (lab 05): removes an image, and the layers no other image has.
// Refused while a container, running or stopped, was made from it, as `docker rmi` does;
// with -f only while one runs (its overlay has the layers as lower dirs). Until lab 10's
// `rm`, a foreground run keeps its record after it ended: -f is how an image goes then.
#include <fmt/format.h>

#include <cstdio>
#include <memory>

#include "layers.hpp"
#include "mydocker/image.hpp"
#include "verbs.hpp"

namespace mydocker::driver {

Verb addRmiVerb(CLI::App& app, const Globals& globals) {
    CLI::App* command = app.add_subcommand("rmi", "Remove an image");
    auto name = std::make_shared<std::string>();
    auto force = std::make_shared<bool>(false);
    command->add_option("name", *name, "The image's name, REPOSITORY[:TAG]")->required();
    command->add_flag("-f,--force", *force,
                      "Remove the image even if stopped containers were made from it");
    return Verb{
        command, [name, force, &globals] {
            const image::Reference reference = image::parseReference(*name);
            const image::Image image =
                image::removeImage(globals.root, reference, [&](const image::Image& i) {
                    return containersUsing(globals.root, i.reference.str(), *force);
                });
            std::fputs(
                fmt::format("Untagged: {}\nDeleted: {}\n", reference.str(), image.id).c_str(),
                stdout);
            return 0;
        }};
}

}  // namespace mydocker::driver
