// The balance in the header, read again after anything that moves money.

import { api } from "./api.js";
import { credits } from "./dom.js";

export async function refreshBalance() {
  try {
    const me = (await api("GET", "/me")).user;
    const el = document.getElementById("balance");
    if (el) el.textContent = credits(me.balance);
    return me.balance;
  } catch (e) {
    return null; // the next navigation shows what is wrong
  }
}
