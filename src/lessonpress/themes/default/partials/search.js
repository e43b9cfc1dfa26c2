// The search page: Pagefind's index (pagefind/ beside this folder) searched in the browser, no server needed.
// Every link is made from this page's own address, so search works wherever the site is put.
const form = document.querySelector(".search-form");
const field = document.getElementById("search-query");
const status = document.getElementById("search-status");
const list = document.getElementById("search-results");
const root = new URL("../", document.baseURI);
const offline = location.protocol === "file:";
let pagefind = null;
let latest = 0;

function unavailable() {
  const box = document.getElementById("search-unavailable");
  for (const part of box.querySelectorAll("[data-when]")) {
    part.hidden = part.dataset.when !== (offline ? "file" : "http");
  }
  box.hidden = false;
  form.hidden = true;
  status.textContent = status.dataset.unavailable;
}

// Pagefind's excerpt is the page's text with the matched words in <mark>: keep exactly that, as text and marks.
function excerpt(html) {
  const template = document.createElement("template");
  template.innerHTML = html;
  const paragraph = document.createElement("p");
  for (const node of template.content.childNodes) {
    if (node.nodeName === "MARK") {
      const mark = document.createElement("mark");
      mark.textContent = node.textContent;
      paragraph.append(mark);
    } else {
      paragraph.append(node.textContent);
    }
  }
  return paragraph;
}

function link(url) {
  const target = new URL(url, root);  // Pagefind writes each result's path under the baseUrl given below
  if (offline && target.pathname.endsWith("/")) target.pathname += "index.html";
  return target.href;
}

async function run(query) {
  const ticket = ++latest;
  list.replaceChildren();
  if (!query.trim()) {
    status.textContent = "";
    return;
  }
  status.textContent = status.dataset.searching;
  const found = await pagefind.search(query);
  const results = await Promise.all(found.results.slice(0, 20).map((result) => result.data()));
  if (ticket !== latest) return;  // a newer query was typed meanwhile
  for (const result of results) {
    const item = document.createElement("li");
    const heading = document.createElement("h2");
    const anchor = document.createElement("a");
    anchor.href = link(result.url);
    anchor.textContent = result.meta.title || result.url;
    heading.append(anchor);
    item.append(heading, excerpt(result.excerpt));
    list.append(item);
  }
  const count = found.results.length;
  // The page's messages are in the site's language; the query is set in its quotes.
  // A function as the replacement, so a "$&" typed in the query stays as typed.
  const quoted = status.dataset.quoted.replace("{text}", () => query);
  const message = count === 0 ? status.dataset.none
    : count > results.length ? status.dataset.foundMore
    : count === 1 ? status.dataset.foundOne : status.dataset.foundOther;
  status.textContent = message.replace("{count}", count).replace("{shown}", results.length).replace("{query}", () => quoted);
}

function fromAddress() {
  return new URLSearchParams(location.search).get("q") || "";
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const address = new URL(location.href);
  address.searchParams.set("q", field.value);
  history.replaceState(null, "", address);
  if (pagefind) run(field.value);
});

// Opened from disk, the browser refuses to load the index at all: say so at once rather than fail trying.
if (offline) {
  unavailable();
} else {
  try {
    pagefind = await import(new URL("pagefind/pagefind.js", root).href);
    await pagefind.options({ baseUrl: root.pathname, excerptLength: 24 });
    field.value = fromAddress();
    if (field.value) await run(field.value);
  } catch {
    unavailable();
  }
}
