import Foundation
import PortcullisConfigFile
import PortcullisCore
import PortcullisDevelopment

/// The shipped configuration serves development certificates that each machine makes for
/// itself (`certs/dev/`, never committed), so on a fresh clone they are missing. When they are
/// what is missing, `check-config` names the one command that makes them.
enum DevelopmentCertificatesHint {
    /// What `portcullis certs dev` writes.
    static let fileNames = DevelopmentCertificateFiles.fileNames

    /// `portcullis certs dev` (with `--out` unless the folder is `certs/dev` from here), when
    /// every missing certificate or key the configuration names is one of those files in one
    /// folder; `nil` otherwise.
    static func command(forConfigurationAt path: String) -> String? {
        // The document as written, files unchecked: which certificate files does it name?
        let unchecked = ConfigEnvironment(fileExists: nil, variable: ConfigEnvironment.system.variable)
        guard case .success(let configuration) = ConfigurationFile.load(path: path, environment: unchecked) else { return nil }
        let named = configuration.server.tls.certificates.flatMap { [$0.certificateFile, $0.keyFile] }
            + [configuration.identity.oidc?.caFile].compactMap { $0 }
            + [configuration.identity.oidc?.clientSecret].compactMap { source in
                if case .file(let path) = source { path } else { nil }
            }
        let missing = named.filter { !FileManager.default.isReadableFile(atPath: $0) }
        let folders = Set(missing.map { ($0 as NSString).deletingLastPathComponent })
        guard folders.count == 1, let folder = folders.first,
              missing.allSatisfy({ fileNames.contains(($0 as NSString).lastPathComponent) }) else { return nil }
        return folder == "certs/dev" ? "portcullis certs dev" : "portcullis certs dev --out \(folder)"
    }
}
