import { createApp } from 'vue';
import { SESSION_CLIENT_KEY } from 'shared-session/vue';
import { bootClient } from '../boot.js';
import App from './App.vue';

const app = createApp(App);
app.provide(SESSION_CLIENT_KEY, bootClient());
app.mount('#root');
