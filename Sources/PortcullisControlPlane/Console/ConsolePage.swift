
/// The console's one page: landmarks, a skip link and a live region; the script fills `main`.
/// On narrow screens the navigation collapses behind the Menu button.
enum ConsolePage {
    static let source = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Portcullis console</title>
        <link rel="stylesheet" href="/_portcullis/console/app.css">
        <script src="/_portcullis/console/app.js" defer></script>
        </head>
        <body>
        <a class="skip" href="#main">Skip to content</a>
        <header>
          <button type="button" id="nav-toggle" class="nav-toggle" aria-controls="nav" aria-expanded="false">Menu</button>
          <span class="brand">Portcullis · Admin console</span>
          <span class="account"><span id="who"></span> · <a href="/_portcullis/logout">Sign out</a></span>
        </header>
        <div class="layout">
          <nav id="nav" aria-label="Console"></nav>
          <div>
            <div id="notice" class="notice" hidden></div>
            <main id="main" tabindex="-1"><p>Loading…</p></main>
          </div>
        </div>
        <noscript><p>The console needs JavaScript.</p></noscript>
        </body>
        </html>
        """
}
