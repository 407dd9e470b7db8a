// "My medicines": a list of medicines kept in this browser's localStorage only.
// A drug page adds its drug; the /pack page sets times and notes, previews page 1
// and fills the forms that open and print the pack (the list travels as fields:
// m=SLUG, take=SLUG=morning,evening, note=SLUG=text, as `medpdf pack` reads them).
"use strict";

const PACK_KEY = "medpdf.my-medicines";

function loadPack() {
  try {
    const list = JSON.parse(localStorage.getItem(PACK_KEY) || "[]");
    if (!Array.isArray(list)) return [];
    return list
      .filter((m) => m && typeof m.slug === "string")
      .map((m) => ({
        slug: m.slug,
        title: String(m.title || m.slug),
        times: Array.isArray(m.times) ? m.times.filter((t) => typeof t === "string") : [],
        note: typeof m.note === "string" ? m.note : "",
      }));
  } catch (error) {
    return [];
  }
}

function savePack(list) {
  localStorage.setItem(PACK_KEY, JSON.stringify(list));
  showPackCount(list);
}

function showPackCount(list) {
  const count = document.getElementById("pack-count");
  if (count) count.textContent = list.length ? ` (${list.length})` : "";
}

// --- a drug page: "Add to My medicines" ------------------------------------

function setUpAddButton(button) {
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
    fields.push(["m", medicine.slug]);
    if (medicine.times.length) fields.push(["take", `${medicine.slug}=${medicine.times.join(",")}`]);
    const note = medicine.note.trim();
    if (note) fields.push(["note", `${medicine.slug}=${note}`]);
  }
  return fields;
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

  options.addEventListener("change", () => refresh(loadPack()));
  clear.addEventListener("click", () => {
    savePack([]);
    draw();
  });
  // Another tab added or removed a medicine.
  window.addEventListener("storage", (event) => {
    if (event.key === PACK_KEY) draw();
  });
  draw();
}

document.addEventListener("DOMContentLoaded", () => {
  showPackCount(loadPack());
  const button = document.getElementById("add-to-pack");
  if (button) setUpAddButton(button);
  const root = document.getElementById("pack");
  if (root) setUpPackPage(root);
});
