import type { ComponentChildren } from "preact";
import { linkClick } from "../router.js";

/** An in-app link: a real anchor (keyboard, middle-click, copy link) that navigates without reload. */
export function Link(props: { href: string; children: ComponentChildren; class?: string; "aria-label"?: string }) {
  return (
    <a href={props.href} class={props.class} aria-label={props["aria-label"]} onClick={linkClick}>
      {props.children}
    </a>
  );
}
