// @ts-check
/** DOM helpers of the grid: querying, cloning grid.html's templates, state dots. */
import { $, h } from '../page.js';

/** @typedef {import('../../../control/views').RunState} RunState */

/** @param {ParentNode} root @param {string} selector */
export const q = (root, selector) => /** @type {HTMLElement} */ (root.querySelector(selector));
/** @param {string} id the id of a `<template>` in grid.html */
export const clone = (id) =>
  /** @type {DocumentFragment} */ (/** @type {HTMLTemplateElement} */ ($(id)).content.cloneNode(true));
export const enc = encodeURIComponent;
/** @param {RunState | string} runState */
export const dot = (runState) => h(`i.dot.state-${runState}`, { 'aria-hidden': 'true' });
/** @param {string} text */
export const muted = (text) => h('span.muted', text);
