/**
 * The camera previews in Compose: a `PreviewView` in an `AndroidView`, bound to the
 * current screen's lifecycle by the :app camera adapters while the composable is
 * shown, and released when it leaves (the flow moved on) or the screen stops. The
 * back camera reads QR codes ([QrScannerView]); the front camera takes the selfie
 * ([SelfieCameraView] with a [SelfieCamera] the screen holds to capture).
 */
package id.go.hadir.app.ui.common

import androidx.camera.view.PreviewView
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.runtime.remember
import androidx.compose.runtime.rememberUpdatedState
import androidx.compose.ui.Modifier
import androidx.compose.ui.platform.LocalContext
import androidx.compose.ui.viewinterop.AndroidView
import androidx.lifecycle.compose.LocalLifecycleOwner
import id.go.hadir.app.camera.QrScanner
import id.go.hadir.app.camera.SelfieCamera
import kotlinx.coroutines.NonCancellable
import kotlinx.coroutines.awaitCancellation
import kotlinx.coroutines.withContext

/** The back camera, calling [onQr] (on the analysis thread) with each new QR text it reads. */
@Composable
fun QrScannerView(onQr: (String) -> Unit, modifier: Modifier = Modifier) {
    val context = LocalContext.current
    val lifecycleOwner = LocalLifecycleOwner.current
    val previewView = remember { PreviewView(context) }
    val scanner = remember { QrScanner(context) }
    val currentOnQr by rememberUpdatedState(onQr)
    LaunchedEffect(lifecycleOwner) {
        try {
            scanner.bind(lifecycleOwner, previewView) { text -> currentOnQr(text) }
            awaitCancellation()
        } finally {
            withContext(NonCancellable) { scanner.unbind() }
        }
    }
    AndroidView(factory = { previewView }, modifier = modifier)
}

/** The front camera's preview; [camera] takes the photo. */
@Composable
fun SelfieCameraView(camera: SelfieCamera, modifier: Modifier = Modifier) {
    val context = LocalContext.current
    val lifecycleOwner = LocalLifecycleOwner.current
    val previewView = remember { PreviewView(context).apply { scaleType = PreviewView.ScaleType.FILL_CENTER } }
    LaunchedEffect(lifecycleOwner, camera) {
        try {
            camera.bind(lifecycleOwner, previewView)
            awaitCancellation()
        } finally {
            withContext(NonCancellable) { camera.unbind() }
        }
    }
    AndroidView(factory = { previewView }, modifier = modifier)
}
