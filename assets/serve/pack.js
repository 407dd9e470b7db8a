// "My medicines": a list of medicines kept in this browser's localStorage only.
// A drug page adds its drug; the /pack page sets times and notes, previews page 1
// and fills the forms that open and print the pack (the list travels as fields:
// m=SLUG, take=SLUG=morning,evening, note=SLUG=text, as `medpdf pack` reads them).
"use strict";

// The list belongs to whoever is logged in, and to nobody after them: it is kept under
// that user's name, with the time it was last used, and removed at logout, when another
// user logs in on this browser, and once it has lain unused longer than a session may.
// The page says who that is (<body data-pack-owner>, "" on a station without accounts,
// absent on pages that do not know) and for how long (data-pack-minutes);
// the login page says to forget every list (data-pack-forget).
const PACK_PREFIX = "medpdf.my-medicines";

function packKeys() {
  const keys = [];
  for (let i = 0; i < localStorage.length; i++) {
    const key = localStorage.key(i);
    if (key && key.startsWith(PACK_PREFIX)) keys.push(key);
  }
  return keys;
}

function forgetPacks(keep = null) {
  for (const key of packKeys()) {
    if (key !== keep) localStorage.removeItem(key);
  }
}

function packOwner() {
  return document.body.dataset.packOwner;
}

function packKey() {
  const owner = packOwner();
  return owner === undefined ? null : `${PACK_PREFIX}:${owner}`;
}

function packExpired(saved) {
  const minutes = Number(document.body.dataset.packMinutes || 0);
  return !(typeof saved === "number" && minutes > 0 && Date.now() - saved <= minutes * 60000);
}

function loadPack() {
  const key = packKey();
  if (key === null) return [];
  try {
    const kept = JSON.parse(localStorage.getItem(key) || "null");
    if (!kept || !Array.isArray(kept.list) || packExpired(kept.saved)) {
      localStorage.removeItem(key);
      return [];
    }
    return kept.list
      .filter((m) => m && typeof m.slug === "string")
      .map((m) => ({
        slug: m.slug,
        title: String(m.title || m.slug),
        times: Array.isArray(m.times) ? m.times.filter((t) => typeof t === "string") : [],
        note: typeof m.note === "string" ? m.note : "",
        // From a record's list (Load a medication list): how it is taken, and whether
        // the collection has a leaflet for it (nl: a row of page 1 only).
        dose: typeof m.dose === "string" ? m.dose : "",
        meal: typeof m.meal === "string" ? m.meal : "",
        prn: typeof m.prn === "string" ? m.prn : null,
        daily: m.daily !== false,
        nl: m.nl === true,
      }));
  } catch (error) {
    return [];
  }
}

function savePack(list) {
  const key = packKey();
  if (key === null) return;
  if (list.length) localStorage.setItem(key, JSON.stringify({ saved: Date.now(), list }));
  else localStorage.removeItem(key);
  showPackCount(list);
}

function showPackCount(list) {
  const count = document.getElementById("pack-count");
  if (count) count.textContent = list.length ? ` (${list.length})` : "";
}

// --- a drug page: "Add to My medicines" ------------------------------------

function setUpAddButton(button) {
  if (packKey() === null) return; // a page that does not know whose list it would be
  const slug = button.dataset.slug;
  // The words come from the page, in the station's interface language.
  const addWords = button.textContent;
  function draw() {
    const inList = loadPack().some((m) => m.slug === slug);
    button.textContent = inList ? button.dataset.added : addWords;
    button.disabled = inList;
  }
  button.addEventListener("click", () => {
    const list = loadPack();
    if (list.length >= Number(button.dataset.max)) {
      button.textContent = button.dataset.full;
      return;
    }
    if (!list.some((m) => m.slug === slug)) {
      list.push({ slug, title: button.dataset.title, times: [], note: "" });
      savePack(list);
    }
    draw();
  });
  button.hidden = false;
  draw();
}

// --- the list page ----------------------------------------------------------

function packFields(list) {
  const fields = [];
  for (const medicine of list) {
    // A medicine without a leaflet is named by its title (nl=), the others by slug (m=).
    const name = medicine.nl ? medicine.title : medicine.slug;
    fields.push(medicine.nl ? ["nl", name] : ["m", name]);
    if (medicine.times.length) fields.push(["take", `${name}=${medicine.times.join(",")}`]);
    const note = medicine.note.trim();
    if (note) fields.push(["note", `${name}=${note}`]);
    if (medicine.dose) fields.push(["dose", `${name}=${medicine.dose}`]);
    if (medicine.meal) fields.push(["meal", `${name}=${medicine.meal}`]);
    if (medicine.prn !== null) fields.push(["prn", `${name}=${medicine.prn}`]);
    if (!medicine.daily) fields.push(["notdaily", name]);
  }
  return fields;
}

// Dose, meal, "when needed" and "no leaflet" of a medicine from a record's list, in words.
function packDetails(medicine, words) {
  const parts = [];
  if (medicine.dose) parts.push(medicine.dose);
  const meal = medicine.meal && words[`meal${medicine.meal[0].toUpperCase()}${medicine.meal.slice(1)}`];
  if (meal) parts.push(meal);
  if (medicine.prn !== null) parts.push(medicine.prn ? `${words.whenNeeded}: ${medicine.prn}` : words.whenNeeded);
  if (!medicine.daily) parts.push(words.notDaily);
  if (medicine.nl) parts.push(words.noLeaflet);
  return parts.join(" · ");
}

// --- Load a medication list (a FHIR file from the record system) -------------

function setUpLoadList(onLoaded) {
  const form = document.getElementById("load-list");
  if (!form) return;
  const file = document.getElementById("fhir-file");
  const status = document.getElementById("load-status");
  const choices = document.getElementById("load-choices");
  const unsureList = document.getElementById("load-unsure");
  const again = document.getElementById("load-again");
  let picks = [];

  function fill(text, values) {
    return text.replace(/%\((\w+)\)s/g, (_, key) => String(values[key]));
  }

  async function send() {
    const chosen = file.files && file.files[0];
    if (!chosen) return;
    status.textContent = "";
    const query = new URLSearchParams(picks.map((pick) => ["pick", pick]));
    let answer;
    try {
      const response = await fetch(`/fhir/list.json?${query}`, {
        method: "POST",
        headers: { "Content-Type": "application/fhir+json" },
        body: await chosen.arrayBuffer(),
      });
      answer = await response.json();
      if (!response.ok) {
        status.textContent = answer.error || form.dataset.failed;
        return;
      }
    } catch (error) {
      status.textContent = form.dataset.failed;
      return;
    }
    if (answer.unsure.length) {
      unsureList.replaceChildren();
      for (const medicine of answer.unsure) {
        const item = document.createElement("li");
        const label = document.createElement("label");
        label.textContent = medicine.label;
        const select = document.createElement("select");
        select.dataset.name = medicine.name;
        for (const candidate of medicine.candidates) {
          select.append(new Option(candidate.title, candidate.slug));
        }
        select.append(new Option(form.dataset.chooseNone, "none"));
        label.append(document.createElement("br"), select);
        item.append(label);
        unsureList.append(item);
      }
      choices.hidden = false;
      return;
    }
    choices.hidden = true;
    picks = [];
    const list = answer.medicines
      .map((m) => ({ ...m, nl: false }))
      .concat(answer.unlisted.map((m) => ({ ...m, slug: "", nl: true })));
    onLoaded(list);
    const lines = [fill(form.dataset.loaded, { count: list.length })];
    if (answer.left_out.length) lines.push(fill(form.dataset.leftOut, { names: answer.left_out.join(", ") }));
    status.textContent = lines.join(" ");
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    picks = [];
    send();
  });
  again.addEventListener("click", () => {
    picks = Array.from(unsureList.querySelectorAll("select")).map((s) => `${s.dataset.name}=${s.value}`);
    send();
  });
}

function setUpPackPage(root) {
  const rows = document.getElementById("pack-list");
  const empty = document.getElementById("pack-empty");
  const template = document.getElementById("pack-row");
  const options = document.getElementById("pack-options");
  const preview = document.getElementById("pack-preview");
  const clear = document.getElementById("clear-pack");
  const maxNote = Number(root.dataset.maxNote);
  let previewTimer = null;

  function optionFields() {
    return Array.from(new FormData(options).entries());
  }

  function refresh(list) {
    const fields = packFields(list);
    for (const holder of document.querySelectorAll(".pack-fields")) {
      holder.replaceChildren();
      const all = holder.closest("form") === options ? fields : fields.concat(optionFields());
      for (const [name, value] of all) {
        const input = document.createElement("input");
        input.type = "hidden";
        input.name = name;
        input.value = value;
        holder.append(input);
      }
    }
    for (const button of document.querySelectorAll("#open-pack, #pack-print button[type=submit]")) {
      button.disabled = !list.length;
    }
    clear.disabled = !list.length;
    empty.hidden = list.length > 0;
    clearTimeout(previewTimer);
    if (!list.length) {
      preview.hidden = true;
      preview.removeAttribute("src");
      return;
    }
    // Typing a note does not reload the preview at every key.
    previewTimer = setTimeout(() => {
      const query = new URLSearchParams(fields.concat(optionFields()));
      preview.src = `/pack/preview?${query}`;
      preview.hidden = false;
    }, 300);
  }

  function draw() {
    const list = loadPack();
    rows.replaceChildren();
    list.forEach((medicine, index) => {
      const row = template.content.firstElementChild.cloneNode(true);
      row.dataset.slug = medicine.slug;
      row.querySelector(".pack-name").textContent = medicine.title || medicine.slug;
      row.querySelector(".pack-details").textContent = packDetails(medicine, root.dataset);
      for (const box of row.querySelectorAll("input[data-time]")) {
        box.checked = medicine.times.includes(box.dataset.time);
        box.addEventListener("change", () => {
          const current = loadPack();
          const wanted = Array.from(row.querySelectorAll("input[data-time]:checked"));
          current[index].times = wanted.map((b) => b.dataset.time);
          savePack(current);
          refresh(current);
        });
      }
      const note = row.querySelector(".pack-note");
      note.value = medicine.note || "";
      note.addEventListener("input", () => {
        const current = loadPack();
        current[index].note = note.value.slice(0, maxNote);
        savePack(current);
        refresh(current);
      });
      row.querySelector(".pack-remove").addEventListener("click", () => {
        const current = loadPack();
        current.splice(index, 1);
        savePack(current);
        draw();
      });
      rows.append(row);
    });
    refresh(list);
  }

  setUpLoadList((list) => {
    savePack(list.map((m) => ({ ...m, prn: m.prn === undefined ? null : m.prn })));
    draw();
  });
  options.addEventListener("change", () => refresh(loadPack()));
  clear.addEventListener("click", () => {
    savePack([]);
    draw();
  });
  // Another tab added or removed a medicine.
  window.addEventListener("storage", (event) => {
    if (event.key === null || event.key === packKey()) draw();
  });
  draw();
}

// Every page: forget what is not this user's (or is too old); keep this user's fresh.
function tidyPacks() {
  if ("packForget" in document.body.dataset) {
    forgetPacks();
    return;
  }
  const key = packKey();
  if (key === null) return;
  forgetPacks(key);
  const list = loadPack();
  if (list.length) savePack(list); // used now: its idle time starts again
}

document.addEventListener("DOMContentLoaded", () => {
  tidyPacks();
  // Logging out forgets the list before the request leaves (the answer also says
  // Clear-Site-Data, for a browser whose script did not run).
  for (const form of document.querySelectorAll("form.account")) {
    form.addEventListener("submit", () => forgetPacks());
  }
  showPackCount(loadPack());
  const button = document.getElementById("add-to-pack");
  if (button) setUpAddButton(button);
  const root = document.getElementById("pack");
  if (root) setUpPackPage(root);
});
