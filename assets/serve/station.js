// The printing station's only script. Without it every page still works:
// the search form filters on the server and the options form reloads the page.
"use strict";

document.documentElement.classList.add("js");

const SHOWN = 200; // matches drawn at once; the count says how many more there are

// The page's words in its language: the template puts each translated message in a data-
// attribute of the results list (the policy allows no inline script), with %(name)s holes.
function said(key, values = {}, holder = "results") {
  const message = document.getElementById(holder)?.dataset[key] ?? "";
  return message.replace(/%\((\w+)\)s/g, (hole, name) => String(values[name] ?? hole));
}

function fold(text) {
  return text.normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase();
}

// --- home: filter as you type, keyboard navigation -------------------------

function setUpSearch(input) {
  const list = document.getElementById("results");
  const count = document.getElementById("count");
  const form = document.getElementById("search-form");
  const suggest = document.getElementById("suggest");
  let drugs = [];
  let active = -1;

  // A name that matches nothing gets the server's own "Did you mean" suggestions.
  async function suggestFor(query) {
    let found = [];
    try {
      const response = await fetch(`/suggestions.json?q=${encodeURIComponent(query)}`);
      if (response.ok) found = await response.json();
    } catch (error) {
      return;
    }
    if (input.value.trim() !== query) return; // typed on meanwhile
    suggest.replaceChildren();
    if (!found.length) {
      suggest.hidden = true;
      return;
    }
    suggest.append(said("noMatch", { query }) + " ");
    found.forEach((drug, index) => {
      const link = document.createElement("a");
      link.href = "/drug/" + encodeURIComponent(drug.slug);
      link.textContent = drug.title;
      suggest.append(link, index === found.length - 1 ? said("question") : said("comma"));
    });
    suggest.hidden = false;
  }

  function rank(title, words) {
    if (title.startsWith(words[0])) return 0;
    if ((" " + title).includes(" " + words[0]) || title.includes("-" + words[0])) return 1;
    return 2;
  }

  function matches(query) {
    const words = fold(query).split(/\s+/).filter(Boolean);
    if (!words.length) return drugs;
    const found = [];
    for (const drug of drugs) {
      const haystack = drug.folded + " " + drug.slug;
      if (words.every((w) => haystack.includes(w))) {
        found.push([rank(drug.folded, words), drug]);
      }
    }
    found.sort((a, b) => a[0] - b[0] || (a[1].folded < b[1].folded ? -1 : 1));
    return found.map((pair) => pair[1]);
  }

  // With the list loaded the box is a combobox (ARIA 1.2) and the results its listbox:
  // each option holds its drug's text, not a link (an option may not hold one), and
  // opens the drug when clicked or chosen with Enter.
  function becomeCombobox() {
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-controls", "results");
    input.setAttribute("aria-expanded", "true");
    input.setAttribute("aria-autocomplete", "list");
    list.setAttribute("role", "listbox");
    list.addEventListener("click", (event) => {
      const item = event.target.closest("li[role=option]");
      if (item) window.location.href = item.dataset.href;
    });
  }

  function draw() {
    const query = input.value;
    const found = matches(query);
    list.replaceChildren();
    for (const [index, drug] of found.slice(0, SHOWN).entries()) {
      const item = document.createElement("li");
      item.id = `result-${index + 1}`;
      item.setAttribute("role", "option");
      item.setAttribute("aria-selected", "false");
      item.dataset.href = "/drug/" + encodeURIComponent(drug.slug);
      item.textContent = drug.title;
      if (drug.unavailable) {
        // A monograph an editor broke: found, but marked, so nobody prints its neighbour.
        item.classList.add("unavailable");
        const flag = document.createElement("span");
        flag.className = "flag";
        flag.textContent = said("unavailable");
        item.append(" ", flag);
      }
      list.append(item);
    }
    if (found.length > SHOWN) {
      const more = document.createElement("li");
      more.className = "more";
      more.textContent = said("more", { more: found.length - SHOWN });
      list.append(more);
    }
    count.textContent = query.trim()
      ? said("of", { found: found.length, total: drugs.length, query: query.trim() })
      : said("all", { total: drugs.length });
    active = -1;
    input.removeAttribute("aria-activedescendant");
    suggest.hidden = true;
    if (query.trim() && !found.length) suggestFor(query.trim());
    const url = new URL(window.location.href);
    if (query.trim()) url.searchParams.set("q", query.trim());
    else url.searchParams.delete("q");
    history.replaceState(null, "", url);
  }

  function options() {
    return Array.from(list.querySelectorAll("li[role=option]"));
  }

  function highlight(index) {
    const items = options();
    if (!items.length) return;
    active = Math.max(0, Math.min(index, items.length - 1));
    items.forEach((item, i) => {
      item.classList.toggle("active", i === active);
      item.setAttribute("aria-selected", i === active ? "true" : "false");
    });
    const current = items[active];
    input.setAttribute("aria-activedescendant", current.id);  // read out by screen readers
    current.scrollIntoView({ block: "nearest" });
  }

  // Until the list has arrived the page is the server's (links; Enter searches there):
  // typing must not empty it.
  let loaded = false;
  input.addEventListener("input", () => {
    if (loaded) draw();
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown") {
      highlight(active + 1);
      event.preventDefault();
    } else if (event.key === "ArrowUp") {
      highlight(active - 1);
      event.preventDefault();
    } else if (event.key === "Escape") {
      input.value = "";
      if (loaded) draw();
    } else if (event.key === "Enter") {
      // Open the drug the user chose (or the only match); otherwise the form
      // searches on the server, like the Search button.
      const items = options();
      const chosen = active >= 0 ? items[active] : items.length === 1 ? items[0] : null;
      if (chosen) {
        event.preventDefault();
        window.location.href = chosen.dataset.href;
      }
    }
  });

  fetch(list.dataset.list)
    .then((response) => response.json())
    .then((data) => {
      drugs = data.map((d) => ({
        slug: d.slug,
        title: d.title,
        folded: fold(d.title),
        unavailable: Boolean(d.unavailable),
      }));
      loaded = true;
      becomeCombobox();
      draw();
    })
    .catch(() => {}); // the server-side search still works
}

// --- drug page: options update the PDF link and the preview; edits show up -----

function setUpOptions(form) {
  const link = document.getElementById("open-pdf");
  const preview = document.getElementById("preview");
  const version = document.getElementById("version");
  const changed = document.getElementById("changed");
  const stale = document.getElementById("stale");
  const printForm = document.getElementById("print");
  const slug = encodeURIComponent(form.dataset.slug);

  function query() {
    const params = new URLSearchParams();
    params.set("paper", form.elements.paper.value);
    for (const name of ["large_print", "patient_fields"]) {
      const box = form.elements[name];
      const byDefault = form.dataset["default" + name.replace(/(^|_)(\w)/g, (_, __, c) => c.toUpperCase())];
      if (box.checked || byDefault === "1") params.set(name, box.checked ? "1" : "0");
    }
    return params.toString();
  }

  function update() {
    const q = query();
    if (printForm) {
      printForm.elements.paper.value = form.elements.paper.value;
      printForm.elements.large_print.value = form.elements.large_print.checked ? "1" : "0";
      printForm.elements.patient_fields.value = form.elements.patient_fields.checked ? "1" : "0";
    }
    link.href = `/drug/${slug}.pdf?${q}`;
    preview.src = `/drug/${slug}/preview?${q}`;
    history.replaceState(null, "", `/drug/${slug}?${q}`);
  }

  form.addEventListener("change", update);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    update();
  });

  // Live preview for editors: when the monograph file changes, reload the preview.
  async function poll() {
    if (document.visibilityState !== "visible") return;
    try {
      const response = await fetch(`/drug/${slug}.json`, { cache: "no-store" });
      if (response.status === 404 || response.status === 422) {
        // An editor broke or removed the monograph: the preview below is out of date.
        const problem = await response.json();
        stale.textContent = `${problem.error} ${said("outOfDate", {}, "stale")}`;
        stale.hidden = false;
        return;
      }
      if (!response.ok) return;
      stale.hidden = true;
      const state = await response.json();
      if (state.version !== form.dataset.version) {
        form.dataset.version = state.version;
        version.textContent = state.version;
        changed.hidden = false;
        preview.src = `/drug/${slug}/preview?${query()}&v=${state.version}`;
      }
    } catch (error) {
      // the station is restarting: try again on the next tick
    }
  }
  setInterval(poll, 2000);
}

const searchBox = document.getElementById("search");
if (searchBox) setUpSearch(searchBox);
const optionsForm = document.getElementById("options");
if (optionsForm) setUpOptions(optionsForm);

// After printing, the page says so at its top: move the focus there, so the eye and a
// screen reader (the notice is a status region) both land on it.
const sentNotice = document.getElementById("sent");
if (sentNotice) sentNotice.focus();
