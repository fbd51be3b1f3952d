import '@mantine/core/styles.css';
import { createTheme, darken, DEFAULT_THEME, MantineProvider, Modal, type MantineColorsTuple } from '@mantine/core';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { AuthProvider } from './auth';

/**
 * Mantine's default shade 6 (buttons, badges, links, dimmed text) is too light for WCAG AA text contrast
 * (axe-core color-contrast); shades 6-9 are darkened versions of the darkest one instead.
 */
const colors = Object.fromEntries(
  Object.entries(DEFAULT_THEME.colors)
    .filter(([name]) => name !== 'dark')
    .map(([name, shades]) => [name, [...shades.slice(0, 6), ...[0.25, 0.3, 0.35, 0.4].map((amount) => darken(shades[9], amount))] as unknown as MantineColorsTuple]),
);
const theme = createTheme({
  colors,
  // Mantine's modal close button is an icon without a name (axe-core button-name).
  components: { Modal: Modal.extend({ defaultProps: { closeButtonProps: { 'aria-label': 'Close dialog' } } }) },
});

const queries = new QueryClient({ defaultOptions: { queries: { retry: false, refetchOnWindowFocus: false } } });

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <MantineProvider theme={theme}>
      <QueryClientProvider client={queries}>
        <AuthProvider>
          <App />
        </AuthProvider>
      </QueryClientProvider>
    </MantineProvider>
  </StrictMode>,
);
