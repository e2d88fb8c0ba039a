import { mount } from 'svelte';
import { bootClient } from '../boot.js';
import App from './App.svelte';

mount(App, { target: document.getElementById('root'), props: { client: bootClient() } });
