import Foundation
import PackagePlugin

/// Compiles every `*.bpf.c` file in the target's `BPF` folder with the Swift toolchain's own clang
/// (`clang -target bpf`) and turns each object into a Swift source file the target compiles in, so the BPF C
/// sources are the only truth and no compiled object is ever committed.
@main
struct BPFCompiler: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) async throws -> [Command] {
        let clang = try context.tool(named: "clang").url
        let embed = try context.tool(named: "vigil-bpf-embed").url
        let sourceFolder = target.directoryURL.appending(path: "BPF")
        let files = try FileManager.default.contentsOfDirectory(atPath: sourceFolder.path())
        // The record layout shared with Swift lives in the C target CVigilEBPF.
        guard let layoutTarget = context.package.targets.first(where: { $0.name == "CVigilEBPF" }) else {
            throw BPFCompilerError(message: "the package has no CVigilEBPF target with the record layout header")
        }
        let layoutFolder = layoutTarget.directoryURL.appending(path: "include")
        // Types only BPF programs need (kernel integer types) live beside it, outside the Swift module.
        let bpfTypesFolder = layoutTarget.directoryURL.appending(path: "bpf")
        let layoutHeaders = try [layoutFolder, bpfTypesFolder].flatMap { folder in
            try FileManager.default.contentsOfDirectory(atPath: folder.path())
                .filter { $0.hasSuffix(".h") }.map { folder.appending(path: $0) }
        }
        // Headers are inputs too: a change to a shared layout must rebuild every program.
        let headers = files.filter { $0.hasSuffix(".h") }.map { sourceFolder.appending(path: $0) } + layoutHeaders
        let output = context.pluginWorkDirectoryURL
        return files.filter { $0.hasSuffix(".bpf.c") }.sorted().map { file in
            let name = String(file.dropLast(".bpf.c".count))
            let source = sourceFolder.appending(path: file)
            let object = output.appending(path: "\(name).bpf.o")
            let swift = output.appending(path: "BPFObject+\(name).swift")
            // One command compiles and embeds, so the object file is not an output SwiftPM would copy into a
            // resource bundle.
            return .buildCommand(
                displayName: "Compiling BPF program \(file)",
                executable: embed,
                arguments: [
                    object.path(), swift.path(), name, "--",
                    clang.path(), "-target", "bpf", "-O2", "-g", "-Wall", "-Werror", "-D__TARGET_ARCH_x86",
                    "-I", sourceFolder.path(), "-I", layoutFolder.path(), "-I", bpfTypesFolder.path(),
                    "-idirafter", "/usr/include", "-c",
                    source.path(), "-o", object.path(),
                ],
                inputFiles: [source] + headers,
                outputFiles: [swift]
            )
        }
    }
}

/// Why the plugin could not plan the BPF build.
struct BPFCompilerError: Error, CustomStringConvertible {
    var message: String
    var description: String { "BPFCompiler: \(message)" }
}
