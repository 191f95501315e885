/// `portcullis-bench [--geoip FILE]...`: the pure core and GeoIP (``CoreBenchmarks``).
/// `portcullis-bench store ...`: the store's request-path reads (``StoreBenchmarks``).
@main
enum Benchmarks {
    static func main() async throws {
        let arguments = CommandLine.arguments.dropFirst()
        if arguments.first == "store" {
            try await StoreBenchmarks.run(arguments.dropFirst())
        } else {
            try CoreBenchmarks.run(arguments)
        }
    }
}
