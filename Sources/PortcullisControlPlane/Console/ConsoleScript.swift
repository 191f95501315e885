/// The console's script, `app.js` beside this file: a small single-page app over the admin API.
/// Plain JavaScript, no dependencies, no `innerHTML` (every value goes in as text), no inline
/// handlers or styles (the Content-Security-Policy forbids them). SwiftPM embeds the file in
/// the binary (`resources: [.embedInCode(...)]` in Package.swift), so the gateway is still one
/// file to install; the bytes served are exactly the file's. `scripts/test` checks its syntax
/// with `node --check`.
enum ConsoleScript {
    static let source = String(decoding: PackageResources.app_js, as: UTF8.self)
}
