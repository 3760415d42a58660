// Lab 10: `inspect C`, a container's record as Docker's field names say it (given code).
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "containers.hpp"
#include "mydocker/state.hpp"
#include "verbs.hpp"

namespace mydocker::driver {
namespace {

using json = nlohmann::ordered_json;

/// HostConfig.PortBindings (what -p asked: HostIp "" for every address) or, with
/// `actual`, NetworkSettings.Ports (what is bound: 0.0.0.0 for every address).
json portsDocument(const ContainerState& s, bool actual) {
    json ports = json::object();
    for (const std::string& port : s.ports) {
        const PublishedPort p = splitPublishedPort(port);
        const std::string ip = p.hostIp.empty() && actual ? "0.0.0.0" : p.hostIp;
        ports[p.containerPort].push_back({{"HostIp", ip}, {"HostPort", p.hostPort}});
    }
    return ports;
}

/// HostConfig.Binds: "SOURCE:TARGET[:ro]", a named volume by its name.
json bindsDocument(const ContainerState& s) {
    json binds = json::array();
    for (const VolumeRecord& v : s.volumes) {
        binds.push_back(fmt::format("{}:{}{}", v.name.empty() ? v.source : v.name, v.target,
                                    v.readOnly ? ":ro" : ""));
    }
    return binds;
}

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
          {"PortBindings", portsDocument(s, false)},
          {"Binds", bindsDocument(s)}}},
        // Docker lists the ports bound only while the container runs.
        {"NetworkSettings",
         {{"IPAddress", s.ipAddress},
          {"Gateway", s.gateway},
          {"Ports", running ? portsDocument(s, true) : json::object()}}},
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
