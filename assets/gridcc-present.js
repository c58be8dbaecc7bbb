/* Presenter mode in the browser (/present; layouts/present.py, docs/presenter.md).
 *
 * The server draws the first slide and puts the tour on the root as data attributes (data-slides: each
 * slide's frame address, title and note). This script steps through it:
 *   → / PageDown / Space next, ← / PageUp previous (a clicker sends PageDown / PageUp), Home / End,
 *   F full screen (the Fullscreen API; the button too), Esc leaves full screen, N shows or hides the note.
 * The keys work while the focus is inside the slide's frame too (same origin: each frame's window is listened
 * to, in the capture phase, after every load). Two frames take turns: the shown one and, hidden underneath,
 * the next slide already loading, so stepping forward does not flash white. The slide number follows the
 * address (history.replaceState), so a reload stays on the slide.
 */
(function () {
    "use strict";

    var READY_WAIT_MS = 4000;  // longest a slide's frame is waited for before it is shown anyway
    var QUIET_CHECKS = 4;  // 4 checks 100 ms apart with nothing loading: the slide is drawn

    function editable(target) {
        if (!target || !target.tagName) { return false; }
        var tag = target.tagName.toLowerCase();
        return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
    }

    function Presenter(root) {
        this.root = root;
        this.slides = JSON.parse(root.getAttribute("data-slides") || "[]");
        this.labels = JSON.parse(root.getAttribute("data-labels") || "{}");
        this.tour = root.getAttribute("data-tour");
        this.lang = root.getAttribute("data-lang");
        this.n = parseInt(root.getAttribute("data-n"), 10) || 1;
        this.frames = Array.prototype.slice.call(root.querySelectorAll(".prs-frame"));
        this.token = 0;
        this.onKey = this.onKey.bind(this);
        var self = this;
        this.frames.forEach(function (frame) {
            frame.addEventListener("load", function () { self.loaded(frame); });
            // The frame may have finished before this script bound itself.
            try {
                if (frame.contentDocument && frame.contentDocument.readyState === "complete") { self.loaded(frame); }
            } catch (e) { /* not ours: cannot happen, frames are same-origin */ }
        });
        document.addEventListener("keydown", this.onKey, true);
        root.querySelector(".prs-prev").addEventListener("click", function () { self.go(self.n - 1); });
        root.querySelector(".prs-next").addEventListener("click", function () { self.go(self.n + 1); });
        root.querySelector(".prs-note-btn").addEventListener("click", function () { self.toggleNote(); });
        root.querySelector(".prs-full-btn").addEventListener("click", function () { self.toggleFull(); });
        root.setAttribute("data-bound", "1");
        this.address();
    }

    Presenter.prototype.shown = function () {
        return this.root.querySelector(".prs-frame.prs-shown") || this.frames[0];
    };

    Presenter.prototype.loaded = function (frame) {
        var win;
        try { win = frame.contentWindow; } catch (e) { return; }
        if (!win || win.__gridccPresenterKeys === this.onKey) { return; }
        win.__gridccPresenterKeys = this.onKey;
        win.addEventListener("keydown", this.onKey, true);
        this.waitReady(frame);
    };

    /* A frame is ready when its page has loaded and Dash has nothing in flight (or after READY_WAIT_MS). */
    Presenter.prototype.waitReady = function (frame) {
        var started = Date.now();
        var quiet = 0;  // checks in a row with nothing in flight: Dash starts a page's callbacks a moment after drawing it
        function check() {
            var doc = null;
            try { doc = frame.contentDocument; } catch (e) { doc = null; }
            var busy = doc && (doc.querySelector("[data-dash-is-loading='true']") || !doc.querySelector("#_pages_content > *"));
            quiet = busy ? 0 : quiet + 1;
            if (quiet >= QUIET_CHECKS || Date.now() - started > READY_WAIT_MS) {
                frame.setAttribute("data-ready", "1");
                frame.dispatchEvent(new Event("gridcc-ready"));
                return;
            }
            window.setTimeout(check, 100);
        }
        frame.setAttribute("data-ready", "0");
        check();
    };

    Presenter.prototype.onKey = function (event) {
        if (!this.root.isConnected) {
            document.removeEventListener("keydown", this.onKey, true);
            return;
        }
        if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey || editable(event.target)) {
            return;
        }
        var handled = true;
        switch (event.key) {
            case "ArrowRight": case "PageDown": case " ": case "Spacebar": this.go(this.n + 1); break;
            case "ArrowLeft": case "PageUp": this.go(this.n - 1); break;
            case "Home": this.go(1); break;
            case "End": this.go(this.slides.length); break;
            case "f": case "F": this.toggleFull(); break;
            case "n": case "N": this.toggleNote(); break;
            case "Escape":
                if (document.fullscreenElement) { document.exitFullscreen(); } else { handled = false; }
                break;
            default: handled = false;
        }
        if (handled) {
            event.preventDefault();
            event.stopPropagation();
        }
    };

    Presenter.prototype.go = function (n) {
        n = Math.max(1, Math.min(this.slides.length, n));
        if (n === this.n) { return; }
        this.n = n;
        var slide = this.slides[n - 1];
        var token = ++this.token;
        var self = this;
        this.bar(slide);
        this.address();
        var bad = this.root.querySelector(".prs-bad");
        bad.hidden = !!slide.src;
        if (!slide.src) {
            this.frames.forEach(function (frame) { frame.classList.remove("prs-shown"); });
            this.preload();
            return;
        }
        var target = this.frames.filter(function (f) { return f.getAttribute("data-src") === slide.src; })[0];
        if (!target) {
            var shown = this.shown();
            target = this.frames.filter(function (f) { return f !== shown; })[0] || shown;
            this.load(target, slide.src);
        }
        function reveal() {
            if (token !== self.token) { return; }
            self.frames.forEach(function (frame) {
                var on = frame === target;
                frame.classList.toggle("prs-shown", on);
                frame.classList.toggle("prs-waiting", !on);
                frame.setAttribute("aria-hidden", on ? "false" : "true");
                frame.tabIndex = on ? 0 : -1;
                if (on) { frame.title = slide.title; }
            });
            self.preload();
        }
        if (target.getAttribute("data-ready") === "1") {
            reveal();
        } else {
            target.addEventListener("gridcc-ready", reveal, {once: true});
            window.setTimeout(reveal, READY_WAIT_MS + 500);
        }
    };

    Presenter.prototype.load = function (frame, src) {
        frame.setAttribute("data-ready", "0");
        frame.setAttribute("data-src", src);
        frame.src = src;
    };

    /* Load the next slide into the frame not shown. */
    Presenter.prototype.preload = function () {
        var next = this.slides[this.n];
        if (!next || !next.src) { return; }
        var shown = this.shown();
        var spare = this.frames.filter(function (f) { return f !== shown || !f.classList.contains("prs-shown"); })[0];
        if (spare && spare.getAttribute("data-src") !== next.src) { this.load(spare, next.src); }
    };

    Presenter.prototype.bar = function (slide) {
        var root = this.root;
        root.querySelector(".prs-title").textContent = slide.title;
        root.querySelector(".prs-title").title = slide.title;
        root.querySelector(".prs-count").textContent = this.n + " / " + this.slides.length;
        root.querySelector(".prs-note-text").textContent = slide.note || this.labels.no_note || "";
        root.setAttribute("data-n", String(this.n));
    };

    Presenter.prototype.address = function () {
        var query = "?tour=" + encodeURIComponent(this.tour) + "&slide=" + this.n + (this.lang === "en" ? "&lang=en" : "");
        if (window.location.search !== query) {
            window.history.replaceState(window.history.state, "", window.location.pathname + query);
        }
    };

    Presenter.prototype.toggleNote = function () {
        var note = this.root.querySelector(".prs-note");
        note.hidden = !note.hidden;
        this.root.querySelector(".prs-note-btn").setAttribute("aria-pressed", note.hidden ? "false" : "true");
    };

    Presenter.prototype.toggleFull = function () {
        if (document.fullscreenElement) {
            document.exitFullscreen();
        } else if (this.root.requestFullscreen) {
            this.root.requestFullscreen().catch(function () { /* refused (no user gesture): nothing to do */ });
        }
    };

    function bind() {
        var root = document.getElementById("prs-root");
        if (root && root.getAttribute("data-bound") !== "1") {
            window.gridccPresenter = new Presenter(root);
        }
    }

    new MutationObserver(bind).observe(document.documentElement, {childList: true, subtree: true});
    document.addEventListener("DOMContentLoaded", bind);
}());
