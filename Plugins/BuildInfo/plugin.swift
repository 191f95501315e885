import Foundation
import PackagePlugin

/// Gives the `portcullis` executable a `BuildInfo` enum (the git commit and the build date) for
/// `portcullis --version`. A prebuild command, so it runs on every build and follows new commits;
/// `build-info.sh` writes the file only when it changes and never fails the build.
@main
struct BuildInfoPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) async throws -> [Command] {
        let output = context.pluginWorkDirectoryURL.appending(path: "generated")
        let script = context.package.directoryURL.appending(path: "Plugins/BuildInfo/build-info.sh")
        return [
            .prebuildCommand(
                displayName: "Recording the commit and build date for portcullis --version",
                executable: URL(fileURLWithPath: "/bin/sh"),
                arguments: [script.path, context.package.directoryURL.path, output.appending(path: "BuildInfo.swift").path],
                outputFilesDirectory: output
            )
        ]
    }
}
