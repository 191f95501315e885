/// What `portcullis --version` prints: the release number, and the commit and day of the build
/// (`BuildInfo`, generated on every build by the BuildInfo plugin; "unknown" without git).
enum PortcullisVersion {
    /// The release number; raised when a release is tagged.
    static let number = "0.9.0"

    /// `portcullis 0.9.0 (commit abc1234, built 2026-12-07)`.
    static var line: String {
        "portcullis \(number) (commit \(BuildInfo.commit), built \(BuildInfo.date))"
    }
}
