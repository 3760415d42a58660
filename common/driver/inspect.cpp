// Lab 10: `inspect C`, a container's record as Docker's field names say it (given code).
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "containers.hpp"
#include "mydocker/state.hpp"
#include "verbs.hpp"

namespace mydocker::driver {
namespace {

using json = nlohmann::ordered_json;

json inspectDocument(const ContainerState& s) {
    const bool running = isRunning(s);
    const std::string status = running ? "running" : (s.status == "created" ? "created" : "exited");
    return {
        {"Id", s.id},
        {"Created", s.createdAt},
        {"Path", s.command.empty() ? "" : s.command.front()},
        {"Args", s.command.size() > 1
                     ? std::vector<std::string>(s.command.begin() + 1, s.command.end())
                     : std::vector<std::string>{}},
        {"State",
         {{"Status", status},
          {"Running", running},
          {"Pid", running ? s.pid : 0},
          {"ExitCode", s.exitCode},
          {"OOMKilled", s.oomKilled},
          {"StartedAt", s.startedAt},
          {"FinishedAt", s.finishedAt}}},
        {"Name", "/" + s.name},
        {"Config",
         {{"Hostname", s.hostname},
          {"Image", s.image},
          {"Cmd", s.command},
          {"Env", s.env},
          {"WorkingDir", s.workingDir}}},
        {"HostConfig",
         {{"Memory", s.memoryBytes},
          {"NanoCpus", s.nanoCpus},
          {"NetworkMode", s.network},
          {"AutoRemove", s.autoRemove},
          // Labs 07 and 09 record what fills these.
          {"PortBindings", json::object()},
          {"Binds", json::array()}}},
        {"NetworkSettings",
         {{"IPAddress", s.ipAddress}, {"Gateway", s.gateway}, {"Ports", json::object()}}},
    };
}

}  // namespace

Verb addInspectVerb(CLI::App& app, const Globals& globals) {
    CLI::App* inspect =
        app.add_subcommand("inspect", "Display detailed information on a container");
    auto ref = std::make_shared<std::string>();
    inspect->add_option("container", *ref, "Container id, prefix or name")->required();
    return Verb{inspect, [ref, &globals] {
                    const json document =
                        json::array({inspectDocument(resolveContainer(globals.root, *ref))});
                    fmt::print("{}\n", document.dump(4));
                    return 0;
                }};
}

}  // namespace mydocker::driver
